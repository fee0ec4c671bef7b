import { blog } from '@/lib/atproto'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

/** The redirect URI: checks the response, exchanges the code, sets the session cookie. */
export async function GET(request: Request) {
  await blog.ready
  return blog.routes.callback(request)
}
