/**
 * Confidential clients (private_key_jwt) with a hand-rolled client, metadata served over https on
 * loopback; client metadata validation; races on single-use credentials.
 */
import { randomBytes } from 'node:crypto'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { validateClientMetadata } from './client-metadata.js'
import { ALICE, certFor, DpopClient, pkce, startTestApp, type TestApp, TestBrowser } from './test-oauth.js'

const HOST = 'app.example.com'
const SCOPE = 'atproto transition:generic'
const REDIRECT = `https://${HOST}/callback`

let app: TestApp
let server: https.Server
let clientId: string
const keys: Array<{ kid: string; key: CryptoKey; jwk: JWK }> = []

function metadata() {
  return {
    client_id: clientId,
    redirect_uris: [REDIRECT],
    scope: SCOPE,
    response_types: ['code'],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'ES256',
    dpop_bound_access_tokens: true,
    jwks: { keys: keys.map((k) => k.jwk) },
  }
}

beforeAll(async () => {
  for (const kid of ['k1', 'k2']) {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
    keys.push({
      kid,
      key: privateKey,
      jwk: { ...(await exportJWK(publicKey)), kid, use: 'sig', key_ops: ['verify'] },
    })
  }
  const tls = certFor(HOST)
  server = https.createServer(tls, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(metadata()))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  clientId = `https://${HOST}:${(server.address() as AddressInfo).port}/oauth-client-metadata.json`
  app = await startTestApp({
    clientFetch: {
      allowLoopback: true,
      ca: tls.cert,
      lookup: async () => [{ address: '127.0.0.1', family: 4 }],
    },
  })
})
afterAll(async () => {
  await app.close()
  server.closeAllConnections()
  server.close()
})

function assertion(kid = 'k1', claims: Record<string, unknown> = {}) {
  const k = keys.find((x) => x.kid === kid)!
  return new SignJWT({ jti: randomBytes(12).toString('base64url'), ...claims })
    .setProtectedHeader({ alg: 'ES256', kid })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience((claims.aud as string) ?? app.url)
    .setIssuedAt()
    .setExpirationTime('1m')
    .sign(k.key)
}

const auth = async (kid = 'k1') => ({
  client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
  client_assertion: await assertion(kid),
})

async function parForm(c: DpopClient, extra: Record<string, string>) {
  const p = pkce()
  const r = await c.post(`${app.url}/oauth/par`, {
    client_id: clientId,
    response_type: 'code',
    redirect_uri: REDIRECT,
    scope: SCOPE,
    state: 'st',
    code_challenge: p.challenge,
    code_challenge_method: 'S256',
    ...extra,
  })
  return { ...r, verifier: p.verifier }
}

async function session(c: DpopClient) {
  const r = await parForm(c, await auth())
  expect(r.status).toBe(201)
  const loc = await new TestBrowser().authorize(
    `${app.url}/oauth/authorize?client_id=${encodeURIComponent(clientId)}&request_uri=${encodeURIComponent(r.body.request_uri)}`,
  )
  const code = new URL(loc).searchParams.get('code')!
  const t = await c.post(`${app.url}/oauth/token`, {
    client_id: clientId,
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT,
    code_verifier: r.verifier,
    ...(await auth()),
  })
  expect(t.status).toBe(200)
  return t.body as { refresh_token: string; access_token: string }
}

describe('private_key_jwt', () => {
  it('requires a valid, fresh, unreplayed assertion for our issuer', async () => {
    const c = await DpopClient.create()
    expect((await parForm(c, {})).body.error).toBe('invalid_client')
    const replayed = await auth()
    expect((await parForm(c, replayed)).status).toBe(201)
    expect((await parForm(c, replayed)).body).toMatchObject({
      error: 'invalid_client',
      error_description: expect.stringMatching(/replayed/),
    })
    const wrongAud = {
      ...(await auth()),
      client_assertion: await assertion('k1', { aud: 'https://other.example' }),
    }
    expect((await parForm(c, wrongAud)).body.error).toBe('invalid_client')
    const { privateKey } = await generateKeyPair('ES256')
    const unknown = await new SignJWT({ jti: 'x'.repeat(16) })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(app.url)
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(privateKey)
    expect((await parForm(c, { ...(await auth()), client_assertion: unknown })).body.error).toBe(
      'invalid_client',
    )
  })

  it('binds the session to the key that authenticated first', async () => {
    const c = await DpopClient.create()
    const t = await session(c)
    const otherKey = await c.post(`${app.url}/oauth/token`, {
      client_id: clientId,
      grant_type: 'refresh_token',
      refresh_token: t.refresh_token,
      ...(await auth('k2')),
    })
    expect(otherKey.body.error).toBe('invalid_grant')
    expect(app.store.listSessions(ALICE.sub)).toEqual([])
  })

  it('exactly one of two concurrent refreshes with the same token wins, and reuse ends the family', async () => {
    const c = await DpopClient.create()
    const t = await session(c)
    const refresh = async () =>
      c.post(`${app.url}/oauth/token`, {
        client_id: clientId,
        grant_type: 'refresh_token',
        refresh_token: t.refresh_token,
        ...(await auth()),
      })
    const results = await Promise.all([refresh(), refresh(), refresh()])
    expect(results.filter((r) => r.status === 200)).toHaveLength(1)
    expect(results.filter((r) => r.body.error === 'invalid_grant')).toHaveLength(2)
    expect(app.store.listSessions(ALICE.sub)).toEqual([])
  })

  it('a public client may not send an assertion', async () => {
    const c = await DpopClient.create()
    const r = await c.post(`${app.url}/oauth/par`, { client_id: 'http://localhost', ...(await auth()) })
    expect(r.body).toMatchObject({
      error: 'invalid_client',
      error_description: expect.stringMatching(/Public clients/),
    })
  })
})

describe('validateClientMetadata', () => {
  const id = 'https://app.example.com/client-metadata.json'
  const base = {
    client_id: id,
    redirect_uris: ['https://app.example.com/cb'],
    scope: 'atproto',
    response_types: ['code'],
    grant_types: ['authorization_code'],
    dpop_bound_access_tokens: true,
  }
  it('accepts a minimal public web client and a native client with a reverse-domain scheme', () => {
    expect(validateClientMetadata(base, id).token_endpoint_auth_method).toBe('none')
    const native = { ...base, application_type: 'native', redirect_uris: ['com.example.app:/callback'] }
    expect(validateClientMetadata(native, id).application_type).toBe('native')
  })
  it.each([
    ['client_id mismatch', { client_id: 'https://evil.example/x.json' }],
    ['no dpop', { dpop_bound_access_tokens: false }],
    ['no atproto scope', { scope: 'transition:generic' }],
    ['implicit grant', { grant_types: ['authorization_code', 'implicit'] }],
    ['token response type', { response_types: ['code', 'token'] }],
    ['no redirect', { redirect_uris: [] }],
    ['http redirect', { redirect_uris: ['http://app.example.com/cb'] }],
    ['custom scheme on web', { redirect_uris: ['com.example.app:/cb'] }],
    ['wrong custom scheme', { application_type: 'native', redirect_uris: ['com.evil.app:/cb'] }],
    ['client_secret_basic', { token_endpoint_auth_method: 'client_secret_basic' }],
    [
      'private_key_jwt without keys',
      { token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256' },
    ],
    [
      'private key in jwks',
      {
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'ES256',
        jwks: { keys: [{ kty: 'EC', d: 'x' }] },
      },
    ],
    ['client_uri on another host', { client_uri: 'https://other.example' }],
  ])('refuses %s', (_, patch) => {
    expect(() => validateClientMetadata({ ...base, ...patch }, id)).toThrow(
      expect.objectContaining({ error: 'invalid_client_metadata' }),
    )
  })
})
