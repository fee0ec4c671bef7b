/**
 * The client's own metadata document (its `client_id` is the document's URL) and the loopback
 * development client the atproto profile allows (`http://localhost?redirect_uri=…&scope=…`).
 */
import type { JWK } from 'jose'

/** Client ID metadata document of the atproto OAuth profile (the fields this client uses). */
export interface ClientMetadataDocument {
  client_id: string
  client_name?: string
  client_uri?: string
  logo_uri?: string
  tos_uri?: string
  policy_uri?: string
  application_type: 'web' | 'native'
  grant_types: string[]
  response_types: string[]
  redirect_uris: string[]
  scope: string
  token_endpoint_auth_method: 'none' | 'private_key_jwt'
  token_endpoint_auth_signing_alg?: string
  dpop_bound_access_tokens: true
  jwks_uri?: string
  jwks?: { keys: JWK[] }
}

/** Input of {@link webClientMetadata}. */
export interface WebClientMetadataInput {
  /** Public origin of the app, e.g. `https://blog.example`. */
  publicUrl: string
  /** Path of the metadata document under `publicUrl` (default `/oauth-client/metadata.json`). */
  metadataPath?: string
  /** Path of the JWKS under `publicUrl` (default `/oauth-client/jwks.json`; confidential clients). */
  jwksPath?: string
  /** Callback URLs (absolute, or paths under `publicUrl`). */
  redirectUris: string[]
  /** Every scope the app may ask for (must include `atproto`). */
  scope: string
  clientName?: string
  /** `private_key_jwt` (confidential: keys from config) or `none` (public). */
  authMethod: 'none' | 'private_key_jwt'
}

/** Default path of the metadata document served by {@link OAuthClient.fetch}. */
export const CLIENT_METADATA_PATH = '/oauth-client/metadata.json'
/** Default path of the client's JWKS. */
export const CLIENT_JWKS_PATH = '/oauth-client/jwks.json'

/** Metadata of a web app client whose `client_id` is the URL its mount serves the document at. */
export function webClientMetadata(input: WebClientMetadataInput): ClientMetadataDocument {
  const base = input.publicUrl.replace(/\/+$/, '')
  const abs = (p: string) => (/^https?:\/\//.test(p) ? p : `${base}${p.startsWith('/') ? '' : '/'}${p}`)
  const md: ClientMetadataDocument = {
    client_id: abs(input.metadataPath ?? CLIENT_METADATA_PATH),
    client_uri: base,
    application_type: 'web',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: input.redirectUris.map(abs),
    scope: input.scope,
    token_endpoint_auth_method: input.authMethod,
    dpop_bound_access_tokens: true,
  }
  if (input.clientName) md.client_name = input.clientName
  if (input.authMethod === 'private_key_jwt') {
    md.token_endpoint_auth_signing_alg = 'ES256'
    md.jwks_uri = abs(input.jwksPath ?? CLIENT_JWKS_PATH)
  }
  return md
}

/**
 * The loopback development client: no document to host, `client_id` carries redirect URIs and scope.
 * Redirect URIs must be `http://127.0.0.1[:port]/…` or `http://[::1][:port]/…` (the server ignores ports).
 */
export function developmentClientMetadata(input: {
  redirectUris: string[]
  scope: string
}): ClientMetadataDocument {
  for (const r of input.redirectUris) {
    const u = new URL(r)
    if (u.protocol !== 'http:' || (u.hostname !== '127.0.0.1' && u.hostname !== '[::1]')) {
      throw new TypeError(`Loopback client redirect URIs must be http://127.0.0.1 or http://[::1], got ${r}`)
    }
  }
  const q = new URLSearchParams()
  for (const r of input.redirectUris) q.append('redirect_uri', r)
  q.set('scope', input.scope)
  return {
    client_id: `http://localhost?${q}`,
    client_name: 'Development client',
    application_type: 'native',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: input.redirectUris,
    scope: input.scope,
    token_endpoint_auth_method: 'none',
    dpop_bound_access_tokens: true,
  }
}

/** Whether `clientId` is a loopback development client ID. */
export function isLoopbackClientId(clientId: string): boolean {
  return (
    clientId === 'http://localhost' ||
    clientId.startsWith('http://localhost?') ||
    clientId.startsWith('http://localhost/')
  )
}

/**
 * Check the metadata the way authorization servers will, so a misconfiguration fails at start-up.
 * @throws {TypeError}
 */
export function assertClientMetadata(md: ClientMetadataDocument, hasKeys: boolean): void {
  const fail = (why: string) => {
    throw new TypeError(`OAuth client metadata: ${why}`)
  }
  const scopes = md.scope.split(' ')
  if (!scopes.includes('atproto')) fail('scope must include atproto')
  if (!md.grant_types.includes('authorization_code')) fail('grant_types must include authorization_code')
  if (!md.response_types.includes('code')) fail('response_types must include code')
  if (md.redirect_uris.length === 0) fail('at least one redirect URI is required')
  if (md.dpop_bound_access_tokens !== true) fail('dpop_bound_access_tokens must be true')
  if (isLoopbackClientId(md.client_id)) {
    if (md.token_endpoint_auth_method !== 'none') fail('a loopback client is a public client')
    return
  }
  if (!URL.canParse(md.client_id)) fail(`client_id ${md.client_id} is not a URL`)
  const id = new URL(md.client_id)
  if (id.protocol !== 'https:')
    fail('client_id must be an https URL (or a http://localhost development client)')
  if (md.token_endpoint_auth_method === 'private_key_jwt') {
    if (!hasKeys) fail('a confidential client (private_key_jwt) needs signing keys')
    if (!md.jwks_uri && !md.jwks) fail('a confidential client publishes jwks or jwks_uri')
  }
}
