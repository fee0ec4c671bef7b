// POST /api/signup {username, password, email?}: a new forum member with an atproto account.
import { forum } from '../../../lib/atproto'
import { signUp } from '../../../lib/signup'

export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'

export async function POST(request: Request): Promise<Response> {
  let body: unknown
  try {
    body = await request.json()
  } catch {
    return Response.json({ error: 'InvalidRequest', message: 'Send a JSON body' }, { status: 400 })
  }
  await forum.atproto.ready
  const result = await signUp(forum, body)
  if (!result.ok)
    return Response.json({ error: result.error, message: result.message }, { status: result.status })
  return Response.json(
    { userId: result.user.id, username: result.user.username, did: result.did, handle: result.handle },
    { status: 201 },
  )
}
