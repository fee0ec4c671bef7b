import { cookies } from 'next/headers'
import { blog } from './atproto'

/** The signed-in OAuth session of this browser (server components), or null. */
export async function currentSession() {
  await blog.ready
  return blog.routes.getSession(await cookies())
}
