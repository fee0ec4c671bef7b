import { blog } from '@/lib/atproto'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

/** Revoke the tokens at the user's server, delete the session, clear the cookie. */
export async function POST(request: Request) {
  await blog.ready
  return blog.routes.signOut(request)
}
