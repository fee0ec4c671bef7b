/**
 * Everything the authorization server must refuse, over loopback HTTP with a hand-rolled DPoP client:
 * each case checks the OAuth error on the wire and that no token was issued.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { accessTokenHash, DpopNonces } from './dpop.js'
import { ALICE, DpopClient, pkce, startTestApp, type TestApp, TestBrowser } from './test-oauth.js'

const REDIRECT = 'http://127.0.0.1/callback'
const SCOPE = 'atproto transition:generic'
const CLIENT_ID = `http://localhost?redirect_uri=${encodeURIComponent(REDIRECT)}&scope=${encodeURIComponent(SCOPE)}`
const SECRET = randomBytes(32)

let app: TestApp
beforeAll(async () => {
  app = await startTestApp({ secret: SECRET })
})
afterAll(() => app.close())

const noTokens = () => expect(app.store.listSessions(ALICE.sub)).toEqual([])

async function par(c: DpopClient, over: Record<string, string | undefined> = {}, proof?: string) {
  const p = pkce()
  const form: Record<string, string> = {}
  const all = {
    client_id: CLIENT_ID,
    response_type: 'code',
    redirect_uri: REDIRECT,
    scope: SCOPE,
    state: randomBytes(8).toString('hex'),
    code_challenge: p.challenge,
    code_challenge_method: 'S256',
    ...over,
  }
  for (const [k, v] of Object.entries(all)) if (v !== undefined) form[k] = v
  const r = await c.post(`${app.url}/oauth/par`, form, proof)
  return { ...r, verifier: p.verifier }
}

const authorizeUrl = (requestUri: string) =>
  `${app.url}/oauth/authorize?client_id=${encodeURIComponent(CLIENT_ID)}&request_uri=${encodeURIComponent(requestUri)}`

async function getCode(c: DpopClient) {
  const r = await par(c)
  expect(r.status).toBe(201)
  const location = await new TestBrowser().authorize(authorizeUrl(r.body.request_uri))
  return {
    code: new URL(location).searchParams.get('code')!,
    verifier: r.verifier,
    requestUri: r.body.request_uri,
  }
}

const token = (c: DpopClient, form: Record<string, string>) =>
  c.post(`${app.url}/oauth/token`, { client_id: CLIENT_ID, ...form })

async function tokens(c: DpopClient) {
  const { code, verifier } = await getCode(c)
  const r = await token(c, {
    grant_type: 'authorization_code',
    code,
    code_verifier: verifier,
    redirect_uri: REDIRECT,
  })
  expect(r.status).toBe(200)
  return { ...r.body, code, verifier } as {
    access_token: string
    refresh_token: string
    code: string
    verifier: string
  }
}

async function whoami(signer: DpopClient, accessToken: string, scheme = 'DPoP') {
  const url = `${app.url}/xrpc/com.example.whoami`
  for (let attempt = 0; ; attempt++) {
    const proof = await signer.proof('GET', url, { ath: accessTokenHash(accessToken) })
    const res = await fetch(url, { headers: { authorization: `${scheme} ${accessToken}`, dpop: proof } })
    const nonce = res.headers.get('dpop-nonce')
    if (nonce) signer.nonce = nonce
    if (
      res.status === 401 &&
      res.headers.get('www-authenticate')?.includes('use_dpop_nonce') &&
      attempt === 0
    )
      continue
    return {
      status: res.status,
      wwwAuthenticate: res.headers.get('www-authenticate'),
      body: await res.json(),
    }
  }
}

describe('PAR and PKCE', () => {
  it('rejects a request without PKCE', async () => {
    const c = await DpopClient.create()
    const r = await par(c, { code_challenge: undefined, code_challenge_method: undefined })
    expect(r.status).toBe(400)
    expect(r.body.error).toBe('invalid_request')
  })
  it('rejects the plain PKCE method', async () => {
    const c = await DpopClient.create()
    const r = await par(c, { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' })
    expect(r.status).toBe(400)
    expect(r.body).toMatchObject({
      error: 'invalid_request',
      error_description: expect.stringContaining('S256'),
    })
  })
  it('rejects a redirect_uri absent from the client metadata', async () => {
    const c = await DpopClient.create()
    const r = await par(c, { redirect_uri: 'http://127.0.0.1/elsewhere' })
    expect(r.body.error).toBe('invalid_request')
    expect(r.body.error_description).toMatch(/redirect_uri/)
  })
  it('rejects scopes the client did not declare', async () => {
    const c = await DpopClient.create()
    const r = await par(c, { scope: 'atproto transition:chat.bsky' })
    expect(r.body.error).toBe('invalid_scope')
  })
  it('rejects a reused code_challenge', async () => {
    const c = await DpopClient.create()
    const first = await par(c, { code_challenge: 'b'.repeat(43) })
    expect(first.status).toBe(201)
    const second = await par(c, { code_challenge: 'b'.repeat(43) })
    expect(second.body.error).toBe('invalid_request')
  })
  it('accepts a request_uri once: a used or expired one is refused', async () => {
    const c = await DpopClient.create()
    const { requestUri } = await getCode(c)
    const again = await new TestBrowser().get(authorizeUrl(requestUri))
    expect(again.res.status).toBe(400)
    expect(again.html).toMatch(/expired or was already used/)
    expect(again.html).toContain('<code>invalid_request</code>')
    expect(again.html).not.toContain('name="csrf_token"')

    const r = await par(c)
    const id = r.body.request_uri.split(':req-')[1]
    app.store.updateRequest(id, { expiresAt: Date.now() - 1 })
    const expired = await new TestBrowser().get(authorizeUrl(r.body.request_uri))
    expect(expired.res.status).toBe(400)
    expect(expired.html).toMatch(/expired/)
    expect(expired.html).toContain('<code>invalid_request</code>')
    // Nothing came of either: no code, so no tokens beyond the first request's.
    expect(app.store.listSessions(ALICE.sub)).toEqual([])
  })
})

describe('DPoP proofs', () => {
  const parUrl = () => `${app.url}/oauth/par`

  it('asks for a nonce when the proof has none, then accepts the retry', async () => {
    const c = await DpopClient.create()
    const first = await fetch(parUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: await c.proof('POST', parUrl()) },
      body: 'client_id=x',
    })
    expect(first.status).toBe(400)
    expect((await first.json()).error).toBe('use_dpop_nonce')
    expect(first.headers.get('dpop-nonce')).toBeTruthy()
    c.nonce = first.headers.get('dpop-nonce')!
    expect((await par(c)).status).toBe(201)
  })
  it('refuses a stale nonce (older than three rotation steps)', async () => {
    const c = await DpopClient.create()
    const stale = new DpopNonces(SECRET, 60_000, () => Date.now() - 10 * 60_000).current()
    c.nonce = stale
    const r = await par(c, {}, await c.proof('POST', parUrl()))
    expect(r.body.error).toBe('use_dpop_nonce')
    expect(r.res.headers.get('dpop-nonce')).not.toBe(stale)
    // One step old is still fine: requests in flight across a rotation are not bounced.
    c.nonce = new DpopNonces(SECRET, 60_000, () => Date.now() - 60_000).current()
    expect((await par(c, {}, await c.proof('POST', parUrl()))).status).toBe(201)
  })
  it('refuses a replayed proof', async () => {
    const c = await DpopClient.create()
    await par(c) // learn the nonce
    const proof = await c.proof('POST', parUrl())
    expect((await par(c, {}, proof)).status).toBe(201)
    const replay = await par(c, {}, proof)
    expect(replay.body).toMatchObject({
      error: 'invalid_dpop_proof',
      error_description: expect.stringMatching(/replay/),
    })
  })
  it('refuses a proof for another method or URL', async () => {
    const c = await DpopClient.create()
    await par(c)
    const wrongHtm = await par(c, {}, await c.proof('GET', parUrl()))
    expect(wrongHtm.body).toMatchObject({
      error: 'invalid_dpop_proof',
      error_description: expect.stringMatching(/htm/),
    })
    const wrongHtu = await par(c, {}, await c.proof('POST', `${app.url}/oauth/token`))
    expect(wrongHtu.body).toMatchObject({
      error: 'invalid_dpop_proof',
      error_description: expect.stringMatching(/htu/),
    })
    // Query and fragment are not part of htu, and scheme/host case does not matter.
    const normalized = await par(
      c,
      {},
      await c.proof('POST', `${parUrl().replace('http://', 'HTTP://')}?x=1#y`),
    )
    expect(normalized.status).toBe(201)
  })
  it('refuses a stale iat', async () => {
    const c = await DpopClient.create()
    await par(c)
    const r = await par(c, {}, await c.proof('POST', parUrl(), { iat: Math.floor(Date.now() / 1000) - 300 }))
    expect(r.body).toMatchObject({
      error: 'invalid_dpop_proof',
      error_description: expect.stringMatching(/iat/),
    })
  })
  it('refuses a proof carrying a private key', async () => {
    const c = await DpopClient.create()
    await par(c)
    const { exportJWK, SignJWT } = await import('jose')
    const priv = await exportJWK(c.key)
    const proof = await new SignJWT({
      htm: 'POST',
      htu: parUrl(),
      jti: 'abcdefghij',
      iat: Math.floor(Date.now() / 1000),
      nonce: c.nonce,
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: priv })
      .sign(c.key)
    expect((await par(c, {}, proof)).body.error).toBe('invalid_dpop_proof')
  })
})

describe('token endpoint', () => {
  it('requires the PKCE verifier and the DPoP key of the PAR request', async () => {
    const c = await DpopClient.create()
    const a = await getCode(c)
    const missing = await token(c, { grant_type: 'authorization_code', code: a.code, redirect_uri: REDIRECT })
    expect(missing.body.error).toBe('invalid_grant')
    const b = await getCode(c)
    const wrong = await token(c, {
      grant_type: 'authorization_code',
      code: b.code,
      redirect_uri: REDIRECT,
      code_verifier: pkce().verifier,
    })
    expect(wrong.body.error).toBe('invalid_grant')
    const d = await getCode(c)
    const other = await DpopClient.create()
    const otherKey = await token(other, {
      grant_type: 'authorization_code',
      code: d.code,
      redirect_uri: REDIRECT,
      code_verifier: d.verifier,
    })
    expect(otherKey.body.error).toBe('invalid_dpop_proof')
    noTokens()
  })
  it('refuses unsupported grants', async () => {
    const c = await DpopClient.create()
    await par(c)
    expect((await token(c, { grant_type: 'password' })).body.error).toBe('unsupported_grant_type')
  })
  it('refuses a reused code and revokes what its first use issued', async () => {
    const c = await DpopClient.create()
    const t = await tokens(c)
    expect((await whoami(c, t.access_token)).status).toBe(200)
    const reuse = await token(c, {
      grant_type: 'authorization_code',
      code: t.code,
      code_verifier: t.verifier,
      redirect_uri: REDIRECT,
    })
    expect(reuse.body.error).toBe('invalid_grant')
    expect(reuse.body.access_token).toBeUndefined()
    const refresh = await token(c, { grant_type: 'refresh_token', refresh_token: t.refresh_token })
    expect(refresh.body.error).toBe('invalid_grant')
    const denied = await whoami(c, t.access_token)
    expect(denied.status).toBe(401)
    expect(denied.wwwAuthenticate).toMatch(/^DPoP error="invalid_token"/)
    noTokens()
  })
  it('rotates refresh tokens and revokes the family on reuse', async () => {
    const c = await DpopClient.create()
    const t = await tokens(c)
    const r1 = await token(c, { grant_type: 'refresh_token', refresh_token: t.refresh_token })
    expect(r1.status).toBe(200)
    expect(r1.body).toMatchObject({ token_type: 'DPoP', sub: ALICE.sub, scope: SCOPE })
    const replay = await token(c, { grant_type: 'refresh_token', refresh_token: t.refresh_token })
    expect(replay.body.error).toBe('invalid_grant')
    const next = await token(c, { grant_type: 'refresh_token', refresh_token: r1.body.refresh_token })
    expect(next.body.error).toBe('invalid_grant')
    expect((await whoami(c, r1.body.access_token)).status).toBe(401)
    noTokens()
  })
  it('refuses a refresh asking for more scope than granted, and narrows on request', async () => {
    const c = await DpopClient.create()
    const t = await tokens(c)
    const wider = await token(c, {
      grant_type: 'refresh_token',
      refresh_token: t.refresh_token,
      scope: `${SCOPE} transition:chat.bsky`,
    })
    expect(wider.body.error).toBe('invalid_scope')
    const narrower = await token(c, {
      grant_type: 'refresh_token',
      refresh_token: t.refresh_token,
      scope: 'atproto',
    })
    expect(narrower.body.scope).toBe('atproto')
    expect((await whoami(c, narrower.body.access_token)).body.scope).toBe('atproto')
    app.store.revokeSession(app.store.listSessions(ALICE.sub)[0]!.id)
  })
  it('refuses an access token used without its DPoP key or as a Bearer token', async () => {
    const c = await DpopClient.create()
    const t = await tokens(c)
    const thief = await DpopClient.create()
    thief.nonce = c.nonce
    const stolen = await whoami(thief, t.access_token)
    expect(stolen.status).toBe(401)
    expect(stolen.body.message).toMatch(/another DPoP key/)
    const bearer = await whoami(c, t.access_token, 'Bearer')
    expect(bearer.status).toBe(401)
    const res = await fetch(`${app.url}/xrpc/com.example.whoami`, {
      headers: { authorization: `DPoP ${t.access_token}` },
    })
    expect(res.status).toBe(401)
    app.store.revokeSession(app.store.listSessions(ALICE.sub)[0]!.id)
  })
})

describe('token endpoint: DPoP nonce and redirect_uri', () => {
  it('asks for a nonce before redeeming a code, so the retry still gets the tokens (once)', async () => {
    const c = await DpopClient.create()
    const a = await getCode(c)
    c.nonce = undefined
    const form = {
      client_id: CLIENT_ID,
      grant_type: 'authorization_code',
      code: a.code,
      code_verifier: a.verifier,
      redirect_uri: REDIRECT,
    }
    const url = `${app.url}/oauth/token`
    const bare = await c.post(url, form, await c.proof('POST', url))
    expect(bare.status).toBe(400)
    expect(bare.body.error).toBe('use_dpop_nonce')
    expect(bare.body.access_token).toBeUndefined()
    noTokens()
    // A nonce from another server secret is as good as none.
    c.nonce = new DpopNonces(randomBytes(32)).current()
    const forged = await c.post(url, form, await c.proof('POST', url))
    expect(forged.body.error).toBe('use_dpop_nonce')
    noTokens()
    c.nonce = bare.res.headers.get('dpop-nonce')!
    const ok = await c.post(url, form, await c.proof('POST', url))
    expect(ok.status).toBe(200)
    expect(app.store.listSessions(ALICE.sub)).toHaveLength(1)
    app.store.revokeSession(app.store.listSessions(ALICE.sub)[0]!.id)
  })
  it('refuses a code redeemed with another redirect_uri', async () => {
    const c = await DpopClient.create()
    const a = await getCode(c)
    const r = await token(c, {
      grant_type: 'authorization_code',
      code: a.code,
      code_verifier: a.verifier,
      redirect_uri: 'http://127.0.0.1/elsewhere',
    })
    expect(r.body.error).toBe('invalid_grant')
    expect(r.body.access_token).toBeUndefined()
    noTokens()
  })
})

describe('DPoP proofs on resource requests', () => {
  const url = () => `${app.url}/xrpc/com.example.whoami`
  const call = (t: string, proof: string) =>
    fetch(url(), { headers: { authorization: `DPoP ${t}`, dpop: proof } }).then(async (res) => ({
      status: res.status,
      wwwAuthenticate: res.headers.get('www-authenticate') ?? '',
      nonce: res.headers.get('dpop-nonce'),
      body: await res.json(),
    }))

  it('refuses a replayed, mis-addressed, stale, unbound or nonce-less proof', async () => {
    const c = await DpopClient.create()
    const t = await tokens(c)
    const ath = accessTokenHash(t.access_token)
    const good = await c.proof('GET', url(), { ath })
    expect((await call(t.access_token, good)).status).toBe(200)
    const replay = await call(t.access_token, good)
    expect(replay.status).toBe(401)
    expect(replay.wwwAuthenticate).toMatch(/invalid_dpop_proof/)
    expect(replay.body.message).toMatch(/replay/)

    const cases: Array<[string, Promise<string>, RegExp]> = [
      ['wrong htm', c.proof('POST', url(), { ath }), /htm/],
      ['wrong htu', c.proof('GET', `${app.url}/xrpc/com.example.other`, { ath }), /htu/],
      ['stale iat', c.proof('GET', url(), { ath, iat: Math.floor(Date.now() / 1000) - 300 }), /iat/],
      ['no ath', c.proof('GET', url()), /ath/],
      ['ath of another token', c.proof('GET', url(), { ath: accessTokenHash('x') }), /ath/],
    ]
    for (const [name, proof, message] of cases) {
      const r = await call(t.access_token, await proof)
      expect(r.status, name).toBe(401)
      expect(r.wwwAuthenticate, name).toMatch(/invalid_dpop_proof/)
      expect(r.body.message, name).toMatch(message)
    }
    const saved = c.nonce
    c.nonce = undefined
    const noNonce = await call(t.access_token, await c.proof('GET', url(), { ath }))
    expect(noNonce.status).toBe(401)
    expect(noNonce.wwwAuthenticate).toMatch(/use_dpop_nonce/)
    expect(noNonce.nonce).toBeTruthy()
    c.nonce = saved
    app.store.revokeSession(app.store.listSessions(ALICE.sub)[0]!.id)
  })
})

describe('client metadata documents', () => {
  it('refuses a client_id pointing to a private address', async () => {
    const strict = await startTestApp({ clientFetch: {} })
    try {
      const c = await DpopClient.create()
      for (const clientId of [
        'https://localhost/client-metadata.json',
        'https://10.0.0.1/client-metadata.json',
      ]) {
        const r = await c.post(`${strict.url}/oauth/par`, { client_id: clientId, response_type: 'code' })
        expect(r.body.error).toBe('invalid_client_metadata')
        expect(r.body.error_description).toMatch(/Refusing|private|loopback/)
      }
    } finally {
      await strict.close()
    }
  })
  it('refuses http and malformed client IDs', async () => {
    const c = await DpopClient.create()
    for (const clientId of [
      'http://client.example/meta.json',
      'https://client.example/',
      'http://localhost:8080',
      'http://127.0.0.1',
    ]) {
      const r = await c.post(`${app.url}/oauth/par`, { client_id: clientId })
      expect(r.body.error).toBe('invalid_client')
    }
  })
})
