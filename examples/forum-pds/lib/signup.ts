// Forum sign-up: a forum member row (the forum's own User table) and the member's atproto account,
// created through the PDS's server-side host API and linked to the user's id. The account has no
// password of its own: members sign in to the forum, and to atproto apps through the forum.
import { hashPassword } from '@next-atproto/core'
import type { Forum } from './atproto'

/** What the sign-up form sends. */
export interface SignUpInput {
  username: string
  password: string
  email?: string
}

/** Outcome of {@link signUp}: the member, or an error with the HTTP status to answer. */
export type SignUpResult =
  | { ok: true; user: { id: string; username: string }; did: string; handle: string }
  | { ok: false; status: number; error: string; message: string }

const fail = (status: number, error: string, message: string): SignUpResult => ({
  ok: false,
  status,
  error,
  message,
})

/** Handles are `<username>.test` in development (the PDS's handle domain). */
const HANDLE_DOMAIN = '.test'

/** Create a forum member and their atproto account; nothing is left behind when either step fails. */
export async function signUp(forum: Forum, input: unknown): Promise<SignUpResult> {
  const body = (input ?? {}) as Record<string, unknown>
  const username = typeof body.username === 'string' ? body.username.trim().toLowerCase() : ''
  const password = typeof body.password === 'string' ? body.password : ''
  const email = typeof body.email === 'string' && body.email ? body.email.trim().toLowerCase() : undefined
  if (!/^[a-z0-9][a-z0-9-]{1,28}[a-z0-9]$/.test(username)) {
    return fail(400, 'InvalidUsername', 'Usernames are 3 to 30 letters, digits or inner hyphens')
  }
  if (password.length < 8) return fail(400, 'InvalidPassword', 'Passwords have at least 8 characters')
  if (email !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
    return fail(400, 'InvalidEmail', 'That is not an email address')
  }
  const handle = `${username}${HANDLE_DOMAIN}`
  if (await forum.prisma.user.findUnique({ where: { username } })) {
    return fail(409, 'UsernameTaken', 'That username is taken')
  }
  if (await forum.pds.host.getAccount({ handle })) return fail(409, 'UsernameTaken', 'That username is taken')

  let user: { id: string; username: string }
  try {
    user = await forum.prisma.user.create({
      data: { username, email, passwordHash: await hashPassword(password) },
      select: { id: true, username: true },
    })
  } catch (err) {
    if ((err as { code?: string }).code === 'P2002')
      return fail(409, 'UsernameTaken', 'Username or email taken')
    throw err
  }
  try {
    const account = await forum.pds.host.createAccount({ userId: user.id, handle, email })
    return { ok: true, user, did: account.did, handle: account.handle }
  } catch (err) {
    // The forum row goes with the failed atproto account, so the member can simply try again.
    await forum.prisma.user.delete({ where: { id: user.id } }).catch(() => {})
    // Checked by shape, not `instanceof XRPCError`: Next's route bundle and the custom server that
    // created the forum singleton may each load their own copy of the framework's classes.
    const xrpc = err as { status?: unknown; error?: unknown; message?: string }
    if (typeof xrpc.status === 'number' && xrpc.status < 500 && typeof xrpc.error === 'string') {
      if (xrpc.error === 'HandleNotAvailable') return fail(409, 'UsernameTaken', xrpc.message ?? '')
      return fail(400, xrpc.error, xrpc.message ?? '')
    }
    throw err
  }
}
