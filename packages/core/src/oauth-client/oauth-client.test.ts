/**
 * Our OAuth client against our own authorization server and PDS on loopback HTTP: the whole flow with
 * the sign-in and consent form driven over HTTP, DPoP writes, nonce retries, refresh (also two
 * processes at once), sign-out, and the checks that must refuse a login.
 */
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { decodeJwt, exportJWK, generateKeyPair } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAtproto } from '../atproto.js'
import { IdentityResolver } from '../identity/identity-resolver.js'
import { SsrfBlockedError } from '../identity/safe-fetch-errors.js'
import { oauthServer } from '../oauth/authorization-server.js'
import { MemoryOAuthStore } from '../oauth/store.js'
import { certFor, hiddenFields, TestBrowser } from '../oauth/test-oauth.js'
import { developmentClientMetadata, webClientMetadata } from './client-metadata.js'
import {
  OAuthCallbackError,
  OAuthIdentityMismatchError,
  OAuthMetadataError,
  OAuthResolveError,
  OAuthSessionExpiredError,
} from './errors.js'
import { OAuthClient, type OAuthClientOptions } from './oauth-client.js'
import { MemoryOAuthClientStore } from './store.js'
import { loopbackIdentity, serve, startTestPds, type TestPds } from './test-pds.js'

const SCOPE = 'atproto transition:generic'
const REDIRECT = 'http://127.0.0.1:5173/oauth/callback'
const POST = 'dev.nextatproto.blog.post'

function publicClient(pds: TestPds, extra: Partial<OAuthClientOptions> = {}): OAuthClient {
  return new OAuthClient({
    metadata: developmentClientMetadata({ redirectUris: [REDIRECT], scope: SCOPE }),
    store: new MemoryOAuthClientStore(),
    identity: pds.identity(),
    fetch: { allowHttp: true, allowLoopback: true },
    ...extra,
  })
}

/** Log in `user` through the browser form and finish the callback. */
async function signIn(client: OAuthClient, user: { handle: string; password: string }, input = user.handle) {
  const url = await client.authorize(input, { appState: 'back-to=/write' })
  const location = await new TestBrowser().authorize(url, {
    identifier: user.handle,
    password: user.password,
  })
  const params = new URL(location).searchParams
  return { params, ...(await client.callback(params)) }
}

const causes = (err: unknown): unknown[] => {
  const out: unknown[] = []
  for (let e = err; e; e = (e as { cause?: unknown }).cause) out.push(e)
  return out
}

const post = (title: string) => ({
  $type: POST,
  title,
  body: `# ${title}\n\nWritten through OAuth.`,
  slug: title.toLowerCase().replace(/\W+/g, '-'),
  publishedAt: new Date().toISOString(),
})

const createRecord = (
  session: { fetch: (p: string, i: RequestInit) => Promise<Response>; did: string },
  title: string,
) =>
  session.fetch('/xrpc/com.atproto.repo.createRecord', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ repo: session.did, collection: POST, record: post(title) }),
  })

describe('OAuth client against our PDS and authorization server', () => {
  let pds: TestPds
  let alice: { did: string; handle: string; password: string }
  let bob: { did: string; handle: string; password: string }
  beforeAll(async () => {
    pds = await startTestPds()
    alice = await pds.createAccount('alice')
    bob = await pds.createAccount('bob')
  })
  afterAll(() => pds.close())

  it('signs in with a handle, writes a record with DPoP, and the state is single use', async () => {
    const client = publicClient(pds)
    const url = await client.authorize(alice.handle)
    expect(url.origin).toBe(pds.url)
    expect(url.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/)
    expect(url.searchParams.get('client_id')).toBe(client.clientId)
    // PAR was pushed with DPoP: its first attempt asked for a nonce, the retry succeeded.
    const par = pds.log.filter((l) => l.path === '/oauth/par')
    expect(par.map((l) => l.status)).toEqual([400, 201])
    expect(par[0]!.error).toBe('use_dpop_nonce')

    const location = await new TestBrowser().authorize(url, {
      identifier: alice.handle,
      password: alice.password,
    })
    const params = new URL(location).searchParams
    expect(params.get('iss')).toBe(pds.url)
    const { session } = await client.callback(params)
    // The code exchange reused the nonce PAR learned (same process): one token request.
    expect(pds.log.filter((l) => l.path === '/oauth/token').map((l) => l.status)).toEqual([200])
    expect(session.did).toBe(alice.did)
    expect(session.pdsUrl).toBe(pds.url)
    expect(session.scope.split(' ')).toContain('atproto')
    const [asSession] = pds.oauthStore.listSessions(alice.did)
    expect(asSession!.clientId).toBe(client.clientId)

    const res = await createRecord(session, 'Hello OAuth')
    expect(res.status).toBe(200)
    const { uri } = (await res.json()) as { uri: string }
    expect(uri).toMatch(new RegExp(`^at://${alice.did}/${POST}/`))
    const rkey = uri.split('/').pop()
    const got = await fetch(
      `${pds.url}/xrpc/com.atproto.repo.getRecord?repo=${alice.did}&collection=${POST}&rkey=${rkey}`,
    )
    expect(((await got.json()) as { value: { title: string } }).value.title).toBe('Hello OAuth')

    // Every DPoP answer of the PDS carries its nonce, errors after auth included (oauth.md).
    expect(res.headers.get('dpop-nonce')).toBeTruthy()
    const bad = await session.fetch('/xrpc/com.atproto.repo.createRecord', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ repo: alice.did, collection: POST, record: { $type: POST, title: 42 } }),
    })
    expect(bad.status).toBe(400)
    expect(bad.headers.get('dpop-nonce')).toBeTruthy()

    // The token goes to the account's PDS only.
    await expect(session.fetch('https://other.example/xrpc/x')).rejects.toThrow(/account's PDS/)

    // The same callback again: the state was consumed.
    await expect(client.callback(params)).rejects.toBeInstanceOf(OAuthCallbackError)
  })

  it('signs in with a DID and with the PDS URL; appState comes back', async () => {
    const client = publicClient(pds)
    const byDid = await signIn(client, bob, bob.did)
    expect(byDid.session.did).toBe(bob.did)
    expect(byDid.appState).toBe('back-to=/write')
    const byServer = await signIn(client, bob, pds.url)
    expect(byServer.session.did).toBe(bob.did)
    expect(byServer.session.id).not.toBe(byDid.session.id)
    expect((await client.store.listSessions(bob.did)).length).toBe(2)
  })

  it('a granular scope lets the session write its collection and nothing else', async () => {
    const scope = `atproto repo:${POST}`
    const client = publicClient(pds, {
      metadata: developmentClientMetadata({ redirectUris: [REDIRECT], scope }),
    })
    const { session } = await signIn(client, alice)
    expect(session.scope).toBe(scope)
    expect((await createRecord(session, 'Scoped')).status).toBe(200)
    const other = await session.fetch('/xrpc/com.atproto.repo.createRecord', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ repo: alice.did, collection: 'app.example.other', record: { a: 1 } }),
    })
    expect(other.status).toBe(403)
  })

  it('refreshes (rotating the refresh token) ahead of expiry and on demand', async () => {
    // Tokens count as due for refresh as soon as they are issued (15 min lifetime < 16 min margin).
    const client = publicClient(pds, { refreshBeforeMs: 16 * 60_000 })
    const { session } = await signIn(client, alice)
    const first = (await client.store.getSession(session.id))!
    const tokenCalls = () => pds.log.filter((l) => l.path === '/oauth/token' && l.status === 200).length
    const before = tokenCalls()
    const res = await session.fetch(`/xrpc/com.atproto.server.getSession`)
    expect(res.status).toBe(200)
    expect(((await res.json()) as { did: string }).did).toBe(alice.did)
    expect(tokenCalls()).toBe(before + 1)
    const second = (await client.store.getSession(session.id))!
    expect(second.version).toBe(first.version + 1)
    expect(second.tokens.refreshToken).not.toBe(first.tokens.refreshToken)
    expect(second.tokens.accessToken).not.toBe(first.tokens.accessToken)
    // The old refresh token was rotated out at the server.
    const asSession = pds.oauthStore
      .listSessions(alice.did)
      .find((s) => !s.revokedAt && s.clientId === client.clientId)
    expect(asSession).toBeDefined()

    await session.getTokens(true)
    expect((await client.store.getSession(session.id))!.version).toBe(first.version + 2)
    expect((await createRecord(session, 'After refresh')).status).toBe(200)
  })

  it('two processes refreshing one session at once: one refresh request, both succeed', async () => {
    const store = new MemoryOAuthClientStore()
    const metadata = developmentClientMetadata({ redirectUris: [REDIRECT], scope: SCOPE })
    const make = () =>
      new OAuthClient({
        metadata,
        store,
        identity: pds.identity(),
        fetch: { allowHttp: true, allowLoopback: true },
      })
    const a = make()
    const b = make()
    const { session } = await signIn(a, alice)
    const version = (await store.getSession(session.id))!.version
    const sa = await a.restore(session.id)
    const sb = await b.restore(session.id)
    const tokenCalls = () => pds.log.filter((l) => l.path === '/oauth/token').length
    const before = tokenCalls()
    await Promise.all([sa.refresh(version), sb.refresh(version), sa.refresh(version), sb.refresh(version)])
    // One refresh request (plus at most one nonce retry) reached the server.
    const calls = pds.log.slice(-(tokenCalls() - before)).filter((l) => l.path === '/oauth/token')
    expect(calls.filter((l) => l.status === 200).length).toBe(1)
    expect(calls.filter((l) => l.status !== 200).every((l) => l.error === 'use_dpop_nonce')).toBe(true)
    const after = (await store.getSession(session.id))!
    expect(after.version).toBe(version + 1)
    expect(after.lock).toBeUndefined()
    expect((await sa.getTokens(false)).accessToken).toBe(after.tokens.accessToken)
    expect((await sb.getTokens(false)).accessToken).toBe(after.tokens.accessToken)
    // No refresh token replay: the server kept the session alive, both processes can write.
    expect((await createRecord(sa, 'From process A')).status).toBe(200)
    expect((await createRecord(sb, 'From process B')).status).toBe(200)
  })

  it('waits for a lease held by a crashed refresher to expire, then refreshes', async () => {
    const client = publicClient(pds, { refreshLeaseMs: 30_000 })
    const { session } = await signIn(client, alice)
    const { version } = (await client.store.getSession(session.id))!
    const now = Date.now()
    expect(await client.store.acquireRefreshLock(session.id, 'crashed', now + 300, now)).toBe(true)
    expect(await client.store.acquireRefreshLock(session.id, 'other', now + 300, now)).toBe(false)
    await session.refresh(version)
    expect((await client.store.getSession(session.id))!.version).toBe(version + 1)
    // The crashed owner cannot save stale tokens over the new ones.
    expect(await client.store.saveRefreshedTokens(session.id, 'crashed', session['#row' as never])).toBe(
      false,
    )
  })

  it('signs out: tokens revoked at the server, session deleted', async () => {
    const client = publicClient(pds)
    const { session } = await signIn(client, bob)
    const { tokens } = (await client.store.getSession(session.id))!
    const sid = decodeJwt(tokens.accessToken).sid as string
    expect(pds.oauthStore.getSession(sid)!.revokedAt).toBeUndefined()
    await session.signOut()
    expect(pds.oauthStore.getSession(sid)!.revokedAt).toBeTypeOf('number')
    expect(await client.store.getSession(session.id)).toBeNull()
    await expect(client.restore(session.id)).rejects.toBeInstanceOf(OAuthSessionExpiredError)
    // The revoked access token no longer works, even with a valid DPoP proof: a bare Bearer try fails too.
    const res = await fetch(`${pds.url}/xrpc/com.atproto.server.getSession`, {
      headers: { authorization: `Bearer ${tokens.accessToken}` },
    })
    expect(res.status).toBe(401)
  })

  it('a refresh the server refuses ends the session', async () => {
    const client = publicClient(pds)
    const { session } = await signIn(client, bob)
    const [s] = pds.oauthStore
      .listSessions(bob.did)
      .filter((x) => !x.revokedAt)
      .slice(-1)
    await pds.oauthStore.revokeSession(s!.id)
    await expect(session.getTokens(true)).rejects.toBeInstanceOf(OAuthSessionExpiredError)
    expect(await client.store.getSession(session.id)).toBeNull()
  })

  it('refuses a callback with an unknown state or a foreign iss', async () => {
    const client = publicClient(pds)
    const url = await client.authorize(alice.handle)
    const location = await new TestBrowser().authorize(url, {
      identifier: alice.handle,
      password: alice.password,
    })
    const good = new URL(location).searchParams

    const forged = new URLSearchParams(good)
    forged.set('state', 'not-the-state')
    await expect(client.callback(forged)).rejects.toThrow(/Unknown, expired or already used state/)

    const wrongIss = new URLSearchParams(good)
    wrongIss.set('iss', 'https://evil.example')
    await expect(client.callback(wrongIss)).rejects.toThrow(/issuer https:\/\/evil\.example is not/)
    // The state was consumed by the refused attempt: the genuine callback cannot be finished after it.
    await expect(client.callback(good)).rejects.toBeInstanceOf(OAuthCallbackError)

    const noIss = new URLSearchParams(good)
    noIss.delete('iss')
    await expect(client.callback(noIss)).rejects.toBeInstanceOf(OAuthCallbackError)
  })

  it('reports a denied authorization as an OAuth error, with the state consumed', async () => {
    const client = publicClient(pds)
    const url = await client.authorize(alice.handle)
    const browser = new TestBrowser()
    const action = new URL('/oauth/authorize', url).href
    let { html } = await browser.get(url)
    ;({ html } = await browser.post(action, {
      ...hiddenFields(html),
      action: 'sign-in',
      identifier: alice.handle,
      password: alice.password,
    }))
    const { res } = await browser.post(action, { ...hiddenFields(html), action: 'deny' })
    expect(res.status).toBe(303)
    const params = new URL(res.headers.get('location')!).searchParams
    expect(params.get('error')).toBe('access_denied')
    const err = await client.callback(params).catch((e) => e)
    expect(err).toBeInstanceOf(OAuthCallbackError)
    expect(err.error).toBe('access_denied')
    await expect(client.callback(params)).rejects.toThrow(/already used state/)
  })

  it('refuses a handle its DID document does not claim (bidirectional check)', async () => {
    // mallory.test "resolves" to bob's DID, whose document claims bob.test.
    const client = publicClient(pds, {
      identity: new IdentityResolver({
        plcUrl: `${pds.url}/plc`,
        wellKnownUrl: () => 'http://127.0.0.1:9/unused',
        resolveTxt: async () => [[`did=${bob.did}`]],
      }),
    })
    const err = await client.authorize('mallory.test').catch((e) => e)
    expect(err).toBeInstanceOf(OAuthResolveError)
    expect(err.message).toContain('not confirmed by its DID document')
    expect(await client.authorize('not a handle!').catch((e) => e)).toBeInstanceOf(OAuthResolveError)
  })

  describe('servers that are not authoritative', () => {
    let evil: Awaited<ReturnType<typeof serve>>
    let evilDid: string
    beforeAll(async () => {
      let port = 0
      // An authorization server that "signs in" whoever it likes: it claims to be bob.
      evil = await serve(
        (url) =>
          createAtproto({
            publicUrl: url,
            services: [
              oauthServer({
                store: new MemoryOAuthStore(),
                clientFetch: { allowLoopback: true },
                accounts: {
                  authenticate: async () => ({ sub: bob.did, handle: evilDid }),
                  getAccount: async (sub) => (sub === bob.did ? { sub, handle: evilDid } : null),
                },
              }),
            ],
          }),
        (req, res) => {
          // Its own did:web, whose PDS is itself.
          if (req.url !== '/.well-known/did.json') return false
          res.setHeader('content-type', 'application/json')
          res.end(
            JSON.stringify({
              id: evilDid,
              alsoKnownAs: [],
              service: [
                {
                  id: '#atproto_pds',
                  type: 'AtprotoPersonalDataServer',
                  serviceEndpoint: `http://127.0.0.1:${port}`,
                },
              ],
            }),
          )
          return true
        },
      )
      port = Number(new URL(evil.url).port)
      evilDid = `did:web:localhost%3a${port}`
    })
    afterAll(() => evil.close())

    it('refuses a sub other than the account the login started with', async () => {
      const client = publicClient(pds)
      const url = await client.authorize(evilDid)
      expect(url.origin).toBe(evil.url)
      const location = await new TestBrowser().authorize(url, { identifier: 'anyone', password: 'anything' })
      const err = await client.callback(new URL(location).searchParams).catch((e) => e)
      expect(err).toBeInstanceOf(OAuthIdentityMismatchError)
      expect(err.message).toContain(`signed in ${bob.did}, but the login was for ${evilDid}`)
      // The tokens it issued were revoked, and nothing was stored.
      expect(evil.log.some((l) => l.path === '/oauth/revoke' && l.status === 200)).toBe(true)
      expect(await client.store.listSessions(bob.did)).toEqual([])
    })

    it('refuses an issuer that is not the authorization server of the account it signed in', async () => {
      const client = publicClient(pds)
      const url = await client.authorize(evil.url)
      const location = await new TestBrowser().authorize(url, { identifier: 'anyone', password: 'anything' })
      const err = await client.callback(new URL(location).searchParams).catch((e) => e)
      expect(err).toBeInstanceOf(OAuthIdentityMismatchError)
      expect(err.message).toContain(`${evil.url} is not the authorization server of ${bob.did}`)
      expect(await client.store.listSessions(bob.did)).toEqual([])
    })
  })

  describe('SSRF', () => {
    it('refuses to fetch metadata from loopback or private addresses', async () => {
      // Identity resolution may reach the loopback PLC (operator-configured), the client's fetches may not.
      const strict = new OAuthClient({
        metadata: developmentClientMetadata({ redirectUris: [REDIRECT], scope: SCOPE }),
        store: new MemoryOAuthClientStore(),
        identity: loopbackIdentity(pds.url),
        fetch: { allowHttp: true },
      })
      const viaHandle = await strict.authorize(alice.handle).catch((e) => e)
      expect(viaHandle).toBeInstanceOf(OAuthMetadataError)
      expect(causes(viaHandle).some((c) => c instanceof SsrfBlockedError)).toBe(true)
      const viaUrl = await strict.authorize(pds.url).catch((e) => e)
      expect(causes(viaUrl).some((c) => c instanceof SsrfBlockedError)).toBe(true)

      const rebinding = new OAuthClient({
        metadata: developmentClientMetadata({ redirectUris: [REDIRECT], scope: SCOPE }),
        store: new MemoryOAuthClientStore(),
        fetch: { lookup: async () => [{ address: '10.1.2.3', family: 4 }] },
      })
      const priv = await rebinding.authorize('https://pds.example.com').catch((e) => e)
      expect(priv).toBeInstanceOf(OAuthMetadataError)
      expect(causes(priv).some((c) => c instanceof SsrfBlockedError)).toBe(true)
    })
  })
})

describe('DPoP nonce rotation', () => {
  let pds: TestPds
  let carol: { did: string; handle: string; password: string }
  beforeAll(async () => {
    // Nonces rotate every 200 ms and stay valid three steps: a nonce held for a second is stale.
    pds = await startTestPds({ dpopNonceStepMs: 200 })
    carol = await pds.createAccount('carol')
  })
  afterAll(() => pds.close())

  it('retries once with the new nonce on the resource server and the authorization server', async () => {
    const client = publicClient(pds)
    const { session } = await signIn(client, carol)
    expect((await session.fetch('/xrpc/com.atproto.server.getSession')).status).toBe(200)
    await new Promise((r) => setTimeout(r, 1200))
    const mark = pds.log.length
    const res = await createRecord(session, 'Stale nonce')
    expect(res.status).toBe(200)
    const calls = pds.log.slice(mark).filter((l) => l.path === '/xrpc/com.atproto.repo.createRecord')
    expect(calls.map((c) => [c.status, c.error])).toEqual([
      [401, 'use_dpop_nonce'],
      [200, undefined],
    ])

    await new Promise((r) => setTimeout(r, 1200))
    const mark2 = pds.log.length
    await session.getTokens(true)
    const token = pds.log.slice(mark2).filter((l) => l.path === '/oauth/token')
    expect(token.map((c) => [c.status, c.error])).toEqual([
      [400, 'use_dpop_nonce'],
      [200, undefined],
    ])
  })
})

describe('an access token the server calls expired', () => {
  let pds: TestPds
  let frank: { did: string; handle: string; password: string }
  beforeAll(async () => {
    // 3 s: short enough to wait out, long enough that the refreshed token outlives the retry on a
    // loaded machine (1 s was not: the retried write sometimes met an expired token again).
    pds = await startTestPds({ lifetimes: { accessToken: 3 } })
    frank = await pds.createAccount('frank')
  })
  afterAll(() => pds.close())

  it('is refreshed on the invalid_token answer and the request retried once', async () => {
    const client = publicClient(pds, { refreshBeforeMs: 0 })
    const { session } = await signIn(client, frank)
    // As if the server had not said when the token expires: no refresh ahead of time.
    const row = (await client.store.getSession(session.id))!
    const { expiresAt: _, ...tokens } = row.tokens
    expect(await client.store.acquireRefreshLock(session.id, 'test', Date.now() + 5000, Date.now())).toBe(
      true,
    )
    expect(await client.store.saveRefreshedTokens(session.id, 'test', tokens)).toBe(true)
    await new Promise((r) => setTimeout(r, 3300))
    const mark = pds.log.length
    const res = await createRecord(session, 'After expiry')
    expect(res.status).toBe(200)
    const seen = pds.log.slice(mark).filter((l) => l.path !== '/oauth/token' || l.status === 200)
    expect(seen.map((l) => [l.path, l.status, l.error])).toEqual([
      ['/xrpc/com.atproto.repo.createRecord', 401, 'ExpiredToken'],
      ['/oauth/token', 200, undefined],
      ['/xrpc/com.atproto.repo.createRecord', 200, undefined],
    ])
  })
})

describe('confidential client (private_key_jwt, metadata and JWKS served by the client)', () => {
  it('completes the flow with client assertions bound to its key, and refreshes', async () => {
    const host = 'blog.example.com'
    const tls = certFor(host)
    const { privateKey } = await generateKeyPair('ES256', { extractable: true })
    const key = { ...(await exportJWK(privateKey)), kid: 'blog-1' }
    let client!: OAuthClient
    const metaServer = https.createServer(tls, async (req, res) => {
      const r = await client.fetch(new Request(`https://${host}${req.url}`, { method: req.method }))
      if (!r) return res.writeHead(404).end()
      res.writeHead(r.status, Object.fromEntries(r.headers))
      res.end(Buffer.from(await r.arrayBuffer()))
    })
    await new Promise<void>((r) => metaServer.listen(0, '127.0.0.1', r))
    const publicUrl = `https://${host}:${(metaServer.address() as AddressInfo).port}`
    const pds = await startTestPds({
      clientFetch: {
        allowLoopback: true,
        ca: tls.cert,
        lookup: async () => [{ address: '127.0.0.1', family: 4 }],
      },
    })
    try {
      const dave = await pds.createAccount('dave')
      client = new OAuthClient({
        metadata: webClientMetadata({
          publicUrl,
          redirectUris: ['/oauth/callback'],
          scope: SCOPE,
          clientName: 'Blog',
          authMethod: 'private_key_jwt',
        }),
        keys: [key],
        store: new MemoryOAuthClientStore(),
        identity: pds.identity(),
        fetch: { allowHttp: true, allowLoopback: true },
      })
      const doc = await client.fetch(new Request(`${publicUrl}/oauth-client/metadata.json`))
      expect(await doc!.json()).toMatchObject({
        client_id: `${publicUrl}/oauth-client/metadata.json`,
        token_endpoint_auth_method: 'private_key_jwt',
        jwks_uri: `${publicUrl}/oauth-client/jwks.json`,
        redirect_uris: [`${publicUrl}/oauth/callback`],
      })
      const jwks = (await (await client.fetch(
        new Request(`${publicUrl}/oauth-client/jwks.json`),
      ))!.json()) as {
        keys: Array<Record<string, unknown>>
      }
      expect(jwks.keys).toHaveLength(1)
      expect(jwks.keys[0]).toMatchObject({ kid: 'blog-1', kty: 'EC', crv: 'P-256' })
      expect(jwks.keys[0]!.d).toBeUndefined()

      const { session } = await signIn(client, dave)
      expect(session.did).toBe(dave.did)
      const [s] = pds.oauthStore.listSessions(dave.did)
      expect(s!.clientAuth).toMatchObject({ method: 'private_key_jwt', kid: 'blog-1', alg: 'ES256' })
      await session.getTokens(true)
      expect((await createRecord(session, 'Confidential')).status).toBe(200)
      await session.signOut()
      expect(pds.oauthStore.getSession(s!.id)!.revokedAt).toBeTypeOf('number')
    } finally {
      await pds.close()
      metaServer.closeAllConnections()
      metaServer.close()
    }
  })
})
