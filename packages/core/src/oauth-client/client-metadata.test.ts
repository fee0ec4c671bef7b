/** Client metadata builders, their checks, the documents the mount serves, and token response checks. */
import { exportJWK, generateKeyPair } from 'jose'
import { describe, expect, it } from 'vitest'
import { createAtproto } from '../atproto.js'
import { assertClientMetadata, developmentClientMetadata, webClientMetadata } from './client-metadata.js'
import { OAuthCallbackError, OAuthIdentityMismatchError } from './errors.js'
import { OAuthClient, toTokenSet } from './oauth-client.js'
import { MemoryOAuthClientStore } from './store.js'

const SCOPE = 'atproto repo:dev.nextatproto.blog.post'

describe('client metadata', () => {
  it('builds the loopback development client ID from redirect URIs and scope', () => {
    const md = developmentClientMetadata({
      redirectUris: ['http://127.0.0.1:3001/oauth/callback'],
      scope: SCOPE,
    })
    const id = new URL(md.client_id)
    expect(id.origin).toBe('http://localhost')
    expect(id.searchParams.getAll('redirect_uri')).toEqual(['http://127.0.0.1:3001/oauth/callback'])
    expect(id.searchParams.get('scope')).toBe(SCOPE)
    expect(md).toMatchObject({ token_endpoint_auth_method: 'none', application_type: 'native' })
    expect(() =>
      developmentClientMetadata({ redirectUris: ['http://localhost:3001/cb'], scope: SCOPE }),
    ).toThrow(/127\.0\.0\.1/)
  })

  it('refuses metadata authorization servers would refuse', () => {
    const web = webClientMetadata({
      publicUrl: 'https://blog.example',
      redirectUris: ['/oauth/callback'],
      scope: SCOPE,
      authMethod: 'private_key_jwt',
    })
    expect(() => assertClientMetadata(web, false)).toThrow(/needs signing keys/)
    expect(() => assertClientMetadata({ ...web, scope: 'transition:generic' }, true)).toThrow(/atproto/)
    expect(() => assertClientMetadata({ ...web, client_id: 'http://blog.example/md.json' }, true)).toThrow(
      /https/,
    )
    expect(() => assertClientMetadata({ ...web, redirect_uris: [] }, true)).toThrow(/redirect URI/)
    expect(() => assertClientMetadata(web, true)).not.toThrow()
  })

  it('serves the metadata document and the public JWKS through the app mount', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true })
    const client = new OAuthClient({
      metadata: webClientMetadata({
        publicUrl: 'https://blog.example',
        redirectUris: ['/oauth/callback'],
        scope: SCOPE,
        authMethod: 'private_key_jwt',
      }),
      keys: [{ ...(await exportJWK(privateKey)), kid: 'k1' }],
      store: new MemoryOAuthClientStore(),
    })
    const app = createAtproto({ publicUrl: 'https://blog.example', services: [client.service()] })
    const md = await app.fetch(new Request('https://blog.example/oauth-client/metadata.json'))
    expect(md.status).toBe(200)
    expect(md.headers.get('content-type')).toMatch(/^application\/json/)
    expect(await md.json()).toEqual(client.metadata)
    const jwks = (await (
      await app.fetch(new Request('https://blog.example/oauth-client/jwks.json'))
    ).json()) as {
      keys: Array<Record<string, unknown>>
    }
    expect(jwks.keys.map((k) => [k.kid, k.alg, 'd' in k])).toEqual([['k1', 'ES256', false]])
    expect(
      () =>
        new OAuthClient({ metadata: client.metadata, store: client.store, keys: [{ kty: 'EC', kid: 'x' }] }),
    ).toThrow(/private ES256/)
  })
})

describe('token responses', () => {
  const ok = {
    access_token: 'at',
    token_type: 'DPoP',
    refresh_token: 'rt',
    scope: 'atproto transition:generic',
    sub: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa',
    expires_in: 900,
  }
  it('keeps what atproto requires and refuses the rest', () => {
    expect(toTokenSet(ok as never)).toMatchObject({ accessToken: 'at', refreshToken: 'rt', sub: ok.sub })
    expect(() => toTokenSet({ ...ok, sub: undefined } as never)).toThrow(OAuthCallbackError)
    expect(() => toTokenSet({ ...ok, scope: 'transition:generic' } as never)).toThrow(/atproto scope/)
    expect(() => toTokenSet({ ...ok, scope: undefined } as never)).toThrow(/atproto scope/)
    expect(() => toTokenSet({ ...ok, token_type: 'Bearer' } as never)).toThrow(/DPoP-bound/)
    expect(() => toTokenSet(ok as never, 'did:plc:bbbbbbbbbbbbbbbbbbbbbbbb')).toThrow(
      OAuthIdentityMismatchError,
    )
  })
})
