/**
 * The sign-in routes over our OAuth client, against our PDS and authorization server on loopback: the
 * handlers are called with Web Requests as Next.js would; the authorization page is driven over HTTP.
 */
import { developmentClientMetadata, MemoryOAuthClientStore, OAuthClient } from '@next-atproto/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TestBrowser } from '../../core/src/oauth/test-oauth.js'
import { startTestPds, type TestPds } from '../../core/src/oauth-client/test-pds.js'
import { type OAuthClientRoutes, oauthClientRoutes } from './oauth-client.js'

const APP = 'http://127.0.0.1:5174'

const cookiesOf = (res: Response) =>
  Object.fromEntries(
    res.headers.getSetCookie().map((c) => {
      const [pair] = c.split(';')
      const eq = pair!.indexOf('=')
      return [pair!.slice(0, eq), decodeURIComponent(pair!.slice(eq + 1))]
    }),
  )

const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', origin: APP, ...headers },
  body: new URLSearchParams(fields),
})

describe('oauthClientRoutes', () => {
  let pds: TestPds
  let user: { did: string; handle: string; password: string }
  let routes: OAuthClientRoutes
  beforeAll(async () => {
    pds = await startTestPds()
    user = await pds.createAccount('erin')
    const client = new OAuthClient({
      metadata: developmentClientMetadata({
        redirectUris: [`${APP}/oauth/callback`],
        scope: 'atproto transition:generic',
      }),
      store: new MemoryOAuthClientStore(),
      identity: pds.identity(),
      fetch: { allowHttp: true, allowLoopback: true },
    })
    routes = oauthClientRoutes(client)
  })
  afterAll(() => pds.close())

  /** Sign-in POST, then the authorization page; returns the callback URL and the login cookie. */
  async function startLogin(next?: string) {
    const res = await routes.signIn(
      new Request(`${APP}/oauth/signin`, form({ identifier: user.handle, ...(next ? { next } : {}) })),
    )
    expect(res.status).toBe(303)
    const location = res.headers.get('location')!
    expect(new URL(location).origin).toBe(pds.url)
    const bind = cookiesOf(res)['atproto-session-login']!
    expect(bind).toMatch(/^[\w-]{20,}$/)
    const callback = await new TestBrowser().authorize(location, {
      identifier: user.handle,
      password: user.password,
    })
    return { callback, bind }
  }

  it('signs in, reads the session from the cookie, signs out (revoked at the server)', async () => {
    const { callback, bind } = await startLogin('/write')
    const res = await routes.callback(
      new Request(callback, { headers: { cookie: `atproto-session-login=${bind}` } }),
    )
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe(`${APP}/write`)
    const cookies = cookiesOf(res)
    expect(cookies['atproto-session-login']).toBe('')
    const id = cookies['atproto-session']!
    expect(res.headers.getSetCookie().find((c) => c.startsWith('atproto-session='))).toMatch(
      /HttpOnly; SameSite=Lax/,
    )

    const withCookie = new Request(`${APP}/`, { headers: { cookie: `atproto-session=${id}` } })
    const session = await routes.getSession(withCookie)
    expect(session?.did).toBe(user.did)
    expect((await routes.getSession({ get: () => ({ value: id }) }))?.did).toBe(user.did)
    expect(await routes.getSession(new Request(`${APP}/`))).toBeNull()

    const tokens = await session!.getTokens(false)
    const sid = JSON.parse(Buffer.from(tokens.accessToken.split('.')[1]!, 'base64url').toString()).sid
    const out = await routes.signOut(
      new Request(`${APP}/oauth/signout`, form({}, { cookie: `atproto-session=${id}` })),
    )
    expect(out.status).toBe(303)
    expect(cookiesOf(out)['atproto-session']).toBe('')
    expect(pds.oauthStore.getSession(sid)!.revokedAt).toBeTypeOf('number')
    expect(await routes.getSession(withCookie)).toBeNull()
  })

  it('refuses a callback in a browser that did not start the login (login CSRF), revoking the tokens', async () => {
    const { callback } = await startLogin()
    const before = pds.oauthStore.listSessions(user.did).filter((s) => !s.revokedAt).length
    const res = await routes.callback(
      new Request(callback, { headers: { cookie: 'atproto-session-login=forged' } }),
    )
    expect(res.status).toBe(303)
    const to = new URL(res.headers.get('location')!)
    expect(to.pathname).toBe('/signin')
    expect(to.searchParams.get('error')).toMatch(/another browser/)
    expect(cookiesOf(res)['atproto-session']).toBeUndefined()
    expect(pds.oauthStore.listSessions(user.did).filter((s) => !s.revokedAt).length).toBe(before)
  })

  it('never redirects off-site after sign-in, and refuses cross-site posts', async () => {
    const { callback, bind } = await startLogin('//evil.example/steal')
    const res = await routes.callback(
      new Request(callback, { headers: { cookie: `atproto-session-login=${bind}` } }),
    )
    expect(res.headers.get('location')).toBe(`${APP}/`)

    const cross = await routes.signIn(
      new Request(
        `${APP}/oauth/signin`,
        form({ identifier: user.handle }, { origin: 'https://evil.example' }),
      ),
    )
    expect(cross.status).toBe(403)
    const out = await routes.signOut(
      new Request(`${APP}/oauth/signout`, form({}, { origin: 'https://evil.example' })),
    )
    expect(out.status).toBe(403)
  })

  it('sends sign-in errors back to the sign-in page', async () => {
    const res = await routes.signIn(new Request(`${APP}/oauth/signin`, form({ identifier: 'nobody.test' })))
    const to = new URL(res.headers.get('location')!)
    expect(to.pathname).toBe('/signin')
    expect(to.searchParams.get('error')).toMatch(/Could not resolve nobody\.test/)
    const empty = await routes.signIn(new Request(`${APP}/oauth/signin`, form({ identifier: ' ' })))
    expect(new URL(empty.headers.get('location')!).searchParams.get('error')).toMatch(/Enter your handle/)
  })
})
