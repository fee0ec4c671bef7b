/**
 * Interop with the reference client (@atproto/oauth-client-node) over loopback HTTP: PAR → authorize
 * (form driven with plain HTTP) → token → DPoP resource request → refresh → revoke, for a loopback
 * development client and for a confidential client whose metadata document is served over https.
 */
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import {
  JoseKey,
  NodeOAuthClient,
  type NodeSavedSession,
  type NodeSavedState,
  requestLocalLock,
} from '@atproto/oauth-client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALICE, certFor, startTestApp, type TestApp, TestBrowser } from './test-oauth.js'

function memoryStore<T>() {
  const m = new Map<string, T>()
  return {
    get: async (k: string) => m.get(k),
    set: async (k: string, v: T) => void m.set(k, v),
    del: async (k: string) => void m.delete(k),
  }
}

function identityResolver(pdsUrl: string) {
  return {
    resolve: async () => ({
      did: ALICE.sub as `did:plc:${string}`,
      handle: ALICE.handle,
      didDoc: {
        '@context': ['https://www.w3.org/ns/did/v1'],
        id: ALICE.sub as `did:plc:${string}`,
        alsoKnownAs: [`at://${ALICE.handle}`],
        service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: pdsUrl }],
      },
    }),
  }
}

const SCOPE = 'atproto transition:generic'
const REDIRECT = 'http://127.0.0.1/callback'

describe('@atproto/oauth-client-node against our authorization server', () => {
  let app: TestApp
  beforeAll(async () => {
    app = await startTestApp()
  })
  afterAll(() => app.close())

  it('serves metadata the reference client accepts', async () => {
    const res = await fetch(`${app.url}/.well-known/oauth-authorization-server`)
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    const md = await res.json()
    expect(md).toMatchObject({
      issuer: app.url,
      require_pushed_authorization_requests: true,
      authorization_response_iss_parameter_supported: true,
      client_id_metadata_document_supported: true,
      token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
      code_challenge_methods_supported: ['S256'],
    })
    expect(md.dpop_signing_alg_values_supported[0]).toBe('ES256')
    expect(md.scopes_supported).toEqual(
      expect.arrayContaining(['atproto', 'transition:generic', 'transition:chat.bsky']),
    )
    const pr = await (await fetch(`${app.url}/.well-known/oauth-protected-resource`)).json()
    expect(pr.authorization_servers).toEqual([app.url])
  })

  it('loopback client: authorize, call XRPC with DPoP, refresh, revoke', async () => {
    const clientId = `http://localhost?redirect_uri=${encodeURIComponent(REDIRECT)}&scope=${encodeURIComponent(SCOPE)}`
    const client = new NodeOAuthClient({
      clientMetadata: {
        client_id: clientId,
        redirect_uris: [REDIRECT],
        scope: SCOPE,
        response_types: ['code'],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'none',
        application_type: 'native',
        dpop_bound_access_tokens: true,
      },
      stateStore: memoryStore<NodeSavedState>(),
      sessionStore: memoryStore<NodeSavedSession>(),
      identityResolver: identityResolver(app.url),
      allowHttp: true,
      requestLock: requestLocalLock,
    })
    const authorizeUrl = await client.authorize(ALICE.handle, { scope: SCOPE })
    expect(authorizeUrl.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:req-/)

    const location = await new TestBrowser().authorize(authorizeUrl)
    const params = new URL(location).searchParams
    expect(params.get('iss')).toBe(app.url)
    expect(params.get('code')).toMatch(/^cod-/)

    const { session } = await client.callback(params)
    expect(session.did).toBe(ALICE.sub)
    const info = await session.getTokenInfo(false)
    expect(info.scope).toBe(SCOPE)
    expect(info.aud).toBe(`${app.url}/`)

    const who = await session.fetchHandler('/xrpc/com.example.whoami')
    expect(who.status).toBe(200)
    expect(await who.json()).toEqual({ did: ALICE.sub, scope: SCOPE, clientId })

    const [stored] = app.store.listSessions(ALICE.sub)
    const before = stored!.refreshTokenHash
    const refreshed = await client.restore(ALICE.sub, true)
    expect(app.store.getSession(stored!.id)!.refreshTokenHash).not.toBe(before)
    const again = await refreshed.fetchHandler('/xrpc/com.example.whoami')
    expect(again.status).toBe(200)

    await refreshed.signOut()
    expect(app.store.getSession(stored!.id)!.revokedAt).toBeTypeOf('number')
    // The old access token is refused at once: the verifier checks revocation.
    const after = await refreshed.fetchHandler('/xrpc/com.example.whoami').catch((e) => e)
    expect(after instanceof Error || after.status === 401).toBe(true)
  })

  it('confidential client (private_key_jwt, metadata served over https) completes the flow', async () => {
    const host = 'client.example.com'
    const tls = certFor(host)
    const key = await JoseKey.generate(['ES256'], 'k1')
    let clientId = ''
    const metaServer = https.createServer(tls, (req, res) => {
      if (req.url !== '/client-metadata.json') return res.writeHead(404).end()
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(metadata()))
    })
    await new Promise<void>((r) => metaServer.listen(0, '127.0.0.1', r))
    clientId = `https://${host}:${(metaServer.address() as AddressInfo).port}/client-metadata.json`
    const metadata = () => ({
      client_id: clientId,
      client_name: 'Confidential test client',
      redirect_uris: [`https://${host}/callback`],
      scope: SCOPE,
      response_types: ['code'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      application_type: 'web',
      dpop_bound_access_tokens: true,
      jwks: { keys: [key.publicJwk] },
    })
    // The client's hostname resolves to loopback only for this server (the SSRF vetting still runs).
    const conf = await startTestApp({
      clientFetch: {
        allowLoopback: true,
        ca: tls.cert,
        lookup: async () => [{ address: '127.0.0.1', family: 4 }],
      },
    })
    try {
      const client = new NodeOAuthClient({
        clientMetadata: metadata() as never,
        keyset: [key],
        stateStore: memoryStore<NodeSavedState>(),
        sessionStore: memoryStore<NodeSavedSession>(),
        identityResolver: identityResolver(conf.url),
        allowHttp: true,
        requestLock: requestLocalLock,
      })
      const url = await client.authorize(ALICE.handle, { scope: SCOPE })
      const location = await new TestBrowser().authorize(url)
      const { session } = await client.callback(new URL(location).searchParams)
      expect(session.did).toBe(ALICE.sub)
      const [s] = conf.store.listSessions(ALICE.sub)
      expect(s!.clientAuth).toMatchObject({ method: 'private_key_jwt', kid: 'k1', alg: 'ES256' })
      // Confidential sessions outlive the two-week cap of public clients.
      expect(s!.expiresAt - s!.createdAt).toBeGreaterThan(180 * 24 * 3600_000)
      const refreshed = await client.restore(ALICE.sub, true)
      expect((await refreshed.fetchHandler('/xrpc/com.example.whoami')).status).toBe(200)
      expect(conf.store.findSessionByRefreshToken(s!.refreshTokenHash)?.current).toBe(false)
      await refreshed.signOut()
      expect(conf.store.getSession(s!.id)!.revokedAt).toBeTypeOf('number')
    } finally {
      await conf.close()
      metaServer.closeAllConnections()
      metaServer.close()
    }
  })
})
