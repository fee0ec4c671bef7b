/**
 * Discovery refuses servers that do not meet the atproto profile: served over real loopback HTTP with
 * crafted documents, fetched through the client's SSRF-safe fetch (loopback allowed for the test).
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OAuthMetadataError } from './errors.js'
import { safeFetchHandler } from './http.js'
import {
  assertServesResource,
  bareOrigin,
  fetchAuthorizationServerMetadata,
  fetchProtectedResourceIssuer,
} from './server-metadata.js'

type Doc = { status?: number; type?: string; body: unknown; location?: string }
const docs = new Map<string, Doc>()
let server: http.Server
let url = ''
const fetch = safeFetchHandler({ allowHttp: true, allowLoopback: true })

const goodAs = () => ({
  issuer: url,
  authorization_endpoint: `${url}/oauth/authorize`,
  token_endpoint: `${url}/oauth/token`,
  pushed_authorization_request_endpoint: `${url}/oauth/par`,
  response_types_supported: ['code'],
  grant_types_supported: ['authorization_code', 'refresh_token'],
  code_challenge_methods_supported: ['S256'],
  token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
  token_endpoint_auth_signing_alg_values_supported: ['ES256'],
  scopes_supported: ['atproto'],
  authorization_response_iss_parameter_supported: true,
  require_pushed_authorization_requests: true,
  dpop_signing_alg_values_supported: ['ES256'],
  client_id_metadata_document_supported: true,
  protected_resources: [url],
})

const serveAs = (body: unknown) => docs.set('/.well-known/oauth-authorization-server', { body })
const getAs = (authMethod: 'none' | 'private_key_jwt' = 'none') =>
  fetchAuthorizationServerMetadata(fetch, url, { allowHttp: true, authMethod })

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const d = docs.get(req.url ?? '')
    if (!d) return res.writeHead(404).end()
    res.writeHead(d.status ?? 200, {
      'content-type': d.type ?? 'application/json',
      ...(d.location ? { location: d.location } : {}),
    })
    res.end(typeof d.body === 'string' ? d.body : JSON.stringify(d.body))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => {
  server.closeAllConnections()
  server.close()
})

describe('protected resource metadata', () => {
  it('names the issuer of a PDS', async () => {
    docs.set('/.well-known/oauth-protected-resource', {
      body: { resource: url, authorization_servers: ['https://entryway.example'] },
    })
    expect(await fetchProtectedResourceIssuer(fetch, `${url}/some/path`)).toBe('https://entryway.example')
  })

  it.each([
    ['a redirect', { status: 302, location: '/elsewhere', body: '' }, /answered 302/],
    ['a 203', { status: 203, body: { authorization_servers: ['https://a.example'] } }, /answered 203/],
    ['not JSON', { type: 'text/html', body: '<html>' }, /not application\/json/],
    ['an array', { body: [] }, /not a JSON object/],
    ['no server', { body: { authorization_servers: [] } }, /names no authorization server/],
    [
      'a server with a path',
      { body: { authorization_servers: ['https://a.example/oauth'] } },
      /not a bare origin/,
    ],
    [
      'another resource',
      { body: { resource: 'https://other.example', authorization_servers: ['https://a.example'] } },
      /another resource/,
    ],
  ] as Array<[string, Doc, RegExp]>)('refuses %s', async (_what, doc, message) => {
    docs.set('/.well-known/oauth-protected-resource', doc)
    const err = await fetchProtectedResourceIssuer(fetch, url).catch((e) => e)
    expect(err).toBeInstanceOf(OAuthMetadataError)
    expect(err.message).toMatch(message)
  })
})

describe('authorization server metadata', () => {
  it('accepts a conforming server', async () => {
    serveAs(goodAs())
    expect((await getAs('private_key_jwt')).pushed_authorization_request_endpoint).toBe(`${url}/oauth/par`)
  })

  it('refuses metadata naming another issuer than the origin it came from', async () => {
    serveAs({ ...goodAs(), issuer: 'https://pds.example' })
    await expect(getAs()).rejects.toThrow(OAuthMetadataError)
  })

  it('refuses a server missing what atproto requires, naming each', async () => {
    const md: Record<string, unknown> = goodAs()
    delete md.pushed_authorization_request_endpoint
    md.dpop_signing_alg_values_supported = ['RS256']
    md.code_challenge_methods_supported = ['plain']
    md.authorization_response_iss_parameter_supported = false
    md.token_endpoint_auth_methods_supported = ['none']
    serveAs(md)
    const err = await getAs('private_key_jwt').catch((e) => e)
    expect(err).toBeInstanceOf(OAuthMetadataError)
    for (const what of [
      'PKCE S256',
      'DPoP ES256',
      'private_key_jwt client auth',
      'iss in authorization responses',
      'pushed_authorization_request_endpoint',
    ]) {
      expect(err.message).toContain(what)
    }
  })

  it('refuses an issuer that is not a bare origin', async () => {
    await expect(
      fetchAuthorizationServerMetadata(fetch, `${url}/path`, { allowHttp: true, authMethod: 'none' }),
    ).rejects.toThrow(/not a bare origin/)
    expect(bareOrigin('https://a.example:443')).toBeNull()
    expect(bareOrigin('https://user@a.example')).toBeNull()
    expect(bareOrigin('https://a.example/?q=1')).toBeNull()
    expect(bareOrigin('https://a.example:8443')).toBe('https://a.example:8443')
  })

  it('requires the PDS among the protected resources when the server lists them', async () => {
    serveAs(goodAs())
    const md = await getAs()
    expect(() => assertServesResource(md, `${url}/`)).not.toThrow()
    expect(() => assertServesResource(md, 'https://pds.example')).toThrow(
      /does not serve https:\/\/pds\.example/,
    )
  })
})
