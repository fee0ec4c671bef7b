/**
 * The forum's own sign-in: a signed session cookie naming the member's atproto account (DID). It stands
 * for whatever session an existing app already has; the OAuth server reads it through the
 * `currentUser` hook (lib/oauth.ts), so a signed-in member only sees the consent step.
 *
 * `/forum/login` (GET: form, POST: sign in) and `/forum/logout` are plain Web Request/Response
 * handlers, mounted by app/forum/[action]/route.ts on Next.js and by the Express twin.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

export const FORUM_SESSION_COOKIE = 'forum-session'
const MAX_AGE_S = 7 * 24 * 3600

/**
 * Checks a forum member's handle (or email) and password; returns their DID, or null. Gets the client
 * address for rate limiting.
 */
export type ForumPasswordCheck = (
  identifier: string,
  password: string,
  request: Request,
  connection: { remoteAddress?: string },
) => Promise<string | null>

/** Options of {@link forumSessions}. */
export interface ForumSessionOptions {
  /** At least 32 bytes, the same in every process. */
  secret: string
  checkPassword: ForumPasswordCheck
  /** The forum's public origin: form posts from anywhere else are refused (login CSRF). */
  origin: string
}

/** The forum's session cookie: issue, read, and the login/logout pages. */
export interface ForumSessions {
  /** The DID of the member signed in on this request, or null. */
  currentUser(request: Request): string | null
  /** `Set-Cookie` value signing `did` in. */
  cookieFor(did: string): string
  /** Handle `/forum/login` and `/forum/logout` (404 for anything else). */
  fetch(request: Request, connection?: { remoteAddress?: string }): Promise<Response>
}

function readCookie(request: Request, name: string): string | undefined {
  for (const part of (request.headers.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq !== -1 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim())
  }
  return undefined
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** Only same-site paths are followed after sign-in (no open redirect). */
function safeReturnTo(value: string | null): string {
  return value?.startsWith('/') && !value.startsWith('//') && !value.startsWith('/\\') ? value : '/'
}

function loginPage(returnTo: string, error?: string, status = 200): Response {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Forum sign-in</title></head>
<body><h1>Sign in to the forum</h1>${error ? `<p role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/forum/login"><input type="hidden" name="return_to" value="${esc(returnTo)}">
<label>Handle <input name="identifier" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form></body></html>`
  return new Response(html, {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
  })
}

/** Create the forum's session handling. */
export function forumSessions(options: ForumSessionOptions): ForumSessions {
  const sign = (payload: string) =>
    createHmac('sha256', options.secret).update(`forum-session\0${payload}`).digest('base64url')
  const origin = new URL(options.origin).origin
  const secure = origin.startsWith('https:') ? '; Secure' : ''
  const crossSite = (request: Request) => {
    const from = request.headers.get('origin')
    return from !== null && from !== origin
  }
  const refused = () => new Response('Cross-site form refused', { status: 403 })

  const currentUser = (request: Request): string | null => {
    const value = readCookie(request, FORUM_SESSION_COOKIE)
    if (!value) return null
    const [did, exp, mac] = value.split('|')
    if (!did || !exp || !mac) return null
    const expected = Buffer.from(sign(`${did}|${exp}`))
    const given = Buffer.from(mac)
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null
    return Number(exp) > Date.now() / 1000 ? did : null
  }

  const cookieFor = (did: string): string => {
    const exp = Math.floor(Date.now() / 1000) + MAX_AGE_S
    const value = `${did}|${exp}|${sign(`${did}|${exp}`)}`
    return `${FORUM_SESSION_COOKIE}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${MAX_AGE_S}${secure}`
  }

  return {
    currentUser,
    cookieFor,
    async fetch(request, connection = {}) {
      const url = new URL(request.url)
      if (url.pathname === '/forum/logout' && request.method === 'POST') {
        if (crossSite(request)) return refused()
        return new Response(null, {
          status: 303,
          headers: { location: '/', 'set-cookie': `${FORUM_SESSION_COOKIE}=; Path=/; Max-Age=0` },
        })
      }
      if (url.pathname !== '/forum/login') return new Response('Not found', { status: 404 })
      if (request.method === 'GET') return loginPage(safeReturnTo(url.searchParams.get('return_to')))
      if (request.method !== 'POST') return new Response('Method not allowed', { status: 405 })
      if (crossSite(request)) return refused()
      const form = new URLSearchParams(await request.text())
      const returnTo = safeReturnTo(form.get('return_to'))
      const identifier = form.get('identifier')?.trim() ?? ''
      const password = form.get('password') ?? ''
      let did: string | null = null
      try {
        did =
          identifier && password
            ? await options.checkPassword(identifier, password, request, connection)
            : null
      } catch (err) {
        const message = (err as { userMessage?: unknown }).userMessage
        if (typeof message !== 'string') throw err
        return loginPage(returnTo, message, (err as { status?: number }).status ?? 400)
      }
      if (!did) return loginPage(returnTo, 'Wrong handle or password', 401)
      return new Response(null, {
        status: 303,
        headers: { location: returnTo, 'set-cookie': cookieFor(did), 'cache-control': 'no-store' },
      })
    },
  }
}
