import { blog } from '@/lib/atproto'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

/** The sign-in form posts here: resolve the account, push the request, redirect to its server. */
export async function POST(request: Request) {
  await blog.ready
  return blog.routes.signIn(request)
}
