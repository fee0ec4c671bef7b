/** The authorization interface over loopback HTTP: forms, CSRF, managed accounts, prompts, sign-up. */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ALICE,
  DpopClient,
  hiddenFields,
  pkce,
  startTestApp,
  type TestApp,
  TestBrowser,
} from './test-oauth.js'

const REDIRECT = 'http://127.0.0.1/callback'
const CLIENT_ID = `http://localhost?redirect_uri=${encodeURIComponent(REDIRECT)}&scope=atproto`

let app: TestApp
let rendered: string[] = []
beforeAll(async () => {
  app = await startTestApp()
})
afterAll(() => app.close())

async function pushed(over: Record<string, string> = {}) {
  const c = await DpopClient.create()
  const form = {
    client_id: CLIENT_ID,
    response_type: 'code',
    redirect_uri: REDIRECT,
    scope: 'atproto',
    state: randomBytes(8).toString('hex'),
    code_challenge: pkce().challenge,
    code_challenge_method: 'S256',
    ...over,
  }
  const r = await c.post(`${app.url}/oauth/par`, form)
  expect(r.status).toBe(201)
  return {
    url: `${app.url}/oauth/authorize?client_id=${encodeURIComponent(CLIENT_ID)}&request_uri=${encodeURIComponent(r.body.request_uri)}`,
    state: form.state,
  }
}
const action = () => `${app.url}/oauth/authorize`

describe('authorize page', () => {
  it('signs in with a password, then consents; redirect carries code, state and iss', async () => {
    const { url, state } = await pushed()
    const b = new TestBrowser()
    const page = await b.get(url)
    expect(page.res.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/)
    expect(page.html).toContain('name="password"')
    const bad = await b.post(action(), {
      ...hiddenFields(page.html),
      action: 'sign-in',
      identifier: ALICE.handle,
      password: 'nope',
    })
    expect(bad.res.status).toBe(401)
    expect(bad.html).toMatch(/Wrong handle or password/)
    const ok = await b.post(action(), {
      ...hiddenFields(bad.html),
      action: 'sign-in',
      identifier: ALICE.handle,
      password: ALICE.password,
    })
    expect(ok.html).toMatch(/Authorize this app/)
    const done = await b.post(action(), { ...hiddenFields(ok.html), action: 'consent' })
    expect(done.res.status).toBe(303)
    const loc = new URL(done.res.headers.get('location')!)
    expect(`${loc.origin}${loc.pathname}`).toBe(REDIRECT)
    expect(loc.searchParams.get('state')).toBe(state)
    expect(loc.searchParams.get('iss')).toBe(app.url)
    expect(loc.searchParams.get('code')).toBeTruthy()
  })

  it('refuses form posts without the CSRF token, from another origin, or from another browser', async () => {
    const { url } = await pushed()
    const b = new TestBrowser()
    const page = await b.get(url)
    const fields = hiddenFields(page.html)
    const noCsrf = await b.post(action(), { ...fields, csrf_token: '', action: 'consent' })
    expect(noCsrf.res.status).toBe(403)
    const crossSite = await fetch(action(), {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'https://evil.example',
        cookie: [...b.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
      },
      body: new URLSearchParams({ ...fields, action: 'consent' }),
    })
    expect(crossSite.status).toBe(403)
    const other = await new TestBrowser().get(url)
    expect(other.res.status).toBe(400)
    expect(other.html).toMatch(/another browser/)
  })

  it('managed accounts: a member signed in to the host app only approves', async () => {
    const { url } = await pushed()
    const b = new TestBrowser()
    b.cookies.set('host-session', encodeURIComponent(ALICE.sub))
    const page = await b.get(url)
    expect(page.html).not.toContain('name="password"')
    expect(page.html).toContain(`@${ALICE.handle}`)
    const done = await b.post(action(), { ...hiddenFields(page.html), action: 'consent' })
    expect(done.res.status).toBe(303)
    expect(new URL(done.res.headers.get('location')!).searchParams.get('code')).toBeTruthy()
  })

  it("managed accounts: the host app's own sign-in page, then back to consent", async () => {
    app.accounts.signInUrl = (returnTo) => `/login?next=${encodeURIComponent(returnTo)}`
    try {
      const { url } = await pushed()
      const b = new TestBrowser()
      const first = await b.get(url)
      expect(first.res.status).toBe(303)
      const login = new URL(first.res.headers.get('location')!, app.url)
      expect(login.pathname).toBe('/login')
      const back = new URL(login.searchParams.get('next')!, app.url)
      expect(back.href).toBe(url)
      // The host signs the member in its own way, then sends them back: consent only.
      b.cookies.set('host-session', encodeURIComponent(ALICE.sub))
      const page = await b.get(back)
      expect(page.html).toMatch(/Authorize this app/)
      expect(page.html).not.toContain('name="password"')
      const done = await b.post(action(), { ...hiddenFields(page.html), action: 'consent' })
      expect(new URL(done.res.headers.get('location')!).searchParams.get('code')).toBeTruthy()
      // prompt=login still gets the built-in password form.
      const fresh = await pushed({ prompt: 'login' })
      const again = await new TestBrowser().get(fresh.url)
      expect(again.res.status).toBe(200)
      expect(again.html).toContain('name="password"')
    } finally {
      app.accounts.signInUrl = undefined
    }
  })

  it('login_hint restricts which account may sign in', async () => {
    const { url } = await pushed({ login_hint: 'bob.test' })
    const b = new TestBrowser()
    b.cookies.set('host-session', encodeURIComponent(ALICE.sub))
    const page = await b.get(url)
    expect(page.html).toContain('name="password"')
    expect(page.html).toContain('value="bob.test"')
    const r = await b.post(action(), {
      ...hiddenFields(page.html),
      action: 'sign-in',
      identifier: ALICE.handle,
      password: ALICE.password,
    })
    expect(r.html).toMatch(/asked for bob.test/)
  })

  it('remember me: the device session skips the password next time', async () => {
    const b = new TestBrowser()
    const first = await pushed()
    const page = await b.get(first.url)
    const signed = await b.post(action(), {
      ...hiddenFields(page.html),
      action: 'sign-in',
      identifier: ALICE.handle,
      password: ALICE.password,
      remember: '1',
    })
    expect(signed.html).toMatch(/Authorize this app/)
    const second = await pushed()
    expect((await b.get(second.url)).html).toMatch(/Authorize this app/)
    // prompt=login insists on a fresh sign-in.
    const third = await pushed({ prompt: 'login' })
    expect((await b.get(third.url)).html).toContain('name="password"')
  })

  it('deny and prompt=none redirect with errors', async () => {
    const { url, state } = await pushed()
    const b = new TestBrowser()
    const page = await b.get(url)
    const denied = await b.post(action(), { ...hiddenFields(page.html), action: 'deny' })
    const loc = new URL(denied.res.headers.get('location')!)
    expect(loc.searchParams.get('error')).toBe('access_denied')
    expect(loc.searchParams.get('state')).toBe(state)
    const silent = await pushed({ prompt: 'none' })
    const r = await new TestBrowser().get(silent.url)
    expect(r.res.status).toBe(303)
    expect(new URL(r.res.headers.get('location')!).searchParams.get('error')).toBe('login_required')
  })

  it('prompt=create signs up through the account hook', async () => {
    const { url } = await pushed({ prompt: 'create' })
    const b = new TestBrowser()
    const page = await b.get(url)
    expect(page.html).toContain('name="handle"')
    const bad = await b.post(action(), {
      ...hiddenFields(page.html),
      action: 'sign-up',
      handle: 'Not Valid',
      email: 'x@y.z',
      password: 'pw',
    })
    expect(bad.html).toMatch(/Invalid handle/)
    const ok = await b.post(action(), {
      ...hiddenFields(bad.html),
      action: 'sign-up',
      handle: 'carol.test',
      email: 'c@y.z',
      password: 'pw123456',
    })
    expect(ok.html).toContain('@carol.test')
  })

  it('the page is replaceable through renderAuthorizePage', async () => {
    rendered = []
    const custom = await startTestApp({
      renderAuthorizePage: (view) => {
        rendered.push(view.step)
        return new Response(JSON.stringify(view), { headers: { 'content-type': 'application/json' } })
      },
    })
    try {
      const c = await DpopClient.create()
      const r = await c.post(`${custom.url}/oauth/par`, {
        client_id: CLIENT_ID,
        response_type: 'code',
        redirect_uri: REDIRECT,
        scope: 'atproto',
        state: 's',
        code_challenge: pkce().challenge,
        code_challenge_method: 'S256',
      })
      const res = await new TestBrowser().get(
        `${custom.url}/oauth/authorize?client_id=${encodeURIComponent(CLIENT_ID)}&request_uri=${encodeURIComponent(r.body.request_uri)}`,
      )
      const view = JSON.parse(res.html)
      expect(view).toMatchObject({ step: 'sign-in', client: { id: CLIENT_ID, trusted: false } })
      expect(Object.keys(view.hidden).sort()).toEqual(['client_id', 'csrf_token', 'request_uri'])
      expect(rendered).toEqual(['sign-in'])
    } finally {
      await custom.close()
    }
  })
})
