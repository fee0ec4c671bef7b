import { blog } from '@/lib/atproto'
import { createPost, PostInputError, postRecord } from '@/lib/posts'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

const see = (path: string) =>
  new Response(null, { status: 303, headers: { location: new URL(path, blog.app.publicUrl).href } })

/** Publish a post from the write form: a DPoP-bound createRecord on the author's PDS. */
export async function POST(request: Request) {
  await blog.ready
  const origin = request.headers.get('origin')
  if (origin && origin !== blog.app.publicUrl) return new Response('Cross-site post refused', { status: 403 })
  const session = await blog.routes.getSession(request)
  if (!session) return see('/signin')
  const form = await request.formData()
  try {
    await createPost(session, postRecord(Object.fromEntries(form)))
    return see('/')
  } catch (err) {
    // By name: route bundles and the server may hold separate copies of the core classes.
    if ((err as Error).name === 'OAuthSessionExpiredError')
      return see('/signin?error=Please%20sign%20in%20again')
    if (err instanceof PostInputError) return see(`/write?error=${encodeURIComponent(err.message)}`)
    throw err
  }
}
