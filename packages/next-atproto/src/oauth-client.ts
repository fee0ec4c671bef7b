/**
 * Sign-in routes for an AppView using the OAuth client of @next-atproto/core: a sign-in POST that
 * redirects to the user's authorization server, the callback, sign-out, and reading the session in
 * server components. Web Request/Response, so they work as App Router route handlers unchanged.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { OAuthClient, OAuthSession } from '@next-atproto/core'
import type { RouteHandler } from './handler.js'

/** Options of {@link oauthClientRoutes}. */
export interface OAuthClientRoutesOptions {
  /** Cookie holding the session id (default `atproto-session`). */
  cookieName?: string
  /** Where to land after sign-in when the form gave no `next` (default `/`). */
  afterSignIn?: string
  /** Page that shows sign-in errors; gets `?error=<message>` (default `/signin`). */
  signInPage?: string
  /** Where to land after sign-out (default `/`). */
  afterSignOut?: string
  /** Public origin, when the app runs behind a proxy that changes the request URL. */
  publicUrl?: string
  /** Lifetime of the session cookie in seconds (default 30 days; the OAuth session may end sooner). */
  maxAgeSeconds?: number
}

/** Where a server component reads cookies from: a `Request`, or Next's `await cookies()`. */
export type CookieSource = Request | { get(name: string): { value: string } | undefined }

/** The route handlers and session reader of {@link oauthClientRoutes}. */
export interface OAuthClientRoutes {
  /** POST (form): `identifier` (handle, DID or server URL), optional `next` (a local path). */
  signIn: RouteHandler
  /** GET: the redirect URI. Finishes the login and sets the session cookie. */
  callback: RouteHandler
  /** POST: revokes the tokens, deletes the session, clears the cookie. */
  signOut: RouteHandler
  /** The signed-in session of this browser, or null. */
  getSession(source: CookieSource): Promise<OAuthSession | null>
}

const readCookie = (header: string | null, name: string): string | undefined => {
  for (const part of (header ?? '').split(/;\s*/)) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq) === name) return decodeURIComponent(part.slice(eq + 1))
  }
  return undefined
}

/** A local path (no scheme, no `//host`), so `next` cannot send users elsewhere. */
const localPath = (p: unknown, fallback: string): string =>
  typeof p === 'string' && /^\/(?![/\\])/.test(p) ? p : fallback

const same = (a: string, b: string) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b))

/**
 * Sign-in, callback and sign-out handlers over `client`. The login is bound to the browser that
 * started it (a short-lived cookie checked at the callback), so a stolen callback URL cannot sign
 * someone else's browser in (login CSRF).
 */
export function oauthClientRoutes(
  client: OAuthClient,
  opts: OAuthClientRoutesOptions = {},
): OAuthClientRoutes {
  const name = opts.cookieName ?? 'atproto-session'
  const bindName = `${name}-login`
  const signInPage = opts.signInPage ?? '/signin'
  const maxAge = opts.maxAgeSeconds ?? 30 * 24 * 3600
  const origin = (req: Request) => opts.publicUrl?.replace(/\/+$/, '') ?? new URL(req.url).origin
  const cookie = (req: Request, n: string, value: string, age: number) =>
    `${n}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${age}${origin(req).startsWith('https:') ? '; Secure' : ''}`
  const redirect = (req: Request, to: string, cookies: string[] = []) => {
    const headers = new Headers({ location: new URL(to, origin(req)).href, 'cache-control': 'no-store' })
    for (const c of cookies) headers.append('set-cookie', c)
    return new Response(null, { status: 303, headers })
  }
  const fail = (req: Request, message: string, cookies: string[] = []) =>
    redirect(req, `${signInPage}?error=${encodeURIComponent(message)}`, cookies)
  const crossSite = (req: Request) => {
    const o = req.headers.get('origin')
    return o !== null && o !== origin(req)
  }

  const getSession = async (source: CookieSource) => {
    const id =
      source instanceof Request ? readCookie(source.headers.get('cookie'), name) : source.get(name)?.value
    if (!id) return null
    return client.restore(id).catch(() => null)
  }

  return {
    getSession,

    async signIn(req) {
      if (req.method !== 'POST') return new Response('Method not allowed', { status: 405 })
      if (crossSite(req)) return new Response('Cross-site sign-in refused', { status: 403 })
      const form = await req.formData().catch(() => null)
      const identifier = String(form?.get('identifier') ?? '').trim()
      if (!identifier) return fail(req, 'Enter your handle, DID or server address')
      const bind = randomBytes(18).toString('base64url')
      const next = localPath(form?.get('next'), opts.afterSignIn ?? '/')
      try {
        const url = await client.authorize(identifier, { appState: JSON.stringify({ bind, next }) })
        return redirect(req, url.href, [cookie(req, bindName, bind, 600)])
      } catch (err) {
        return fail(req, (err as Error).message)
      }
    },

    async callback(req) {
      const params = new URL(req.url).searchParams
      const clear = cookie(req, bindName, '', 0)
      try {
        const { session, appState } = await client.callback(params)
        const { bind, next } = JSON.parse(appState ?? '{}') as { bind?: string; next?: string }
        const expected = readCookie(req.headers.get('cookie'), bindName)
        if (!bind || !expected || !same(bind, expected)) {
          await session.signOut().catch(() => {})
          return fail(req, 'This sign-in was started in another browser', [clear])
        }
        return redirect(req, localPath(next, opts.afterSignIn ?? '/'), [
          clear,
          cookie(req, name, session.id, maxAge),
        ])
      } catch (err) {
        return fail(req, (err as Error).message, [clear])
      }
    },

    async signOut(req) {
      if (req.method !== 'POST') return new Response('Method not allowed', { status: 405 })
      if (crossSite(req)) return new Response('Cross-site sign-out refused', { status: 403 })
      const session = await getSession(req)
      if (session) await session.signOut().catch(() => {})
      return redirect(req, opts.afterSignOut ?? '/', [cookie(req, name, '', 0)])
    },
  }
}
