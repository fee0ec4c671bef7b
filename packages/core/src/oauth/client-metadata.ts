/**
 * Client identification by client ID metadata document (draft-parecki-oauth-client-id-metadata-document):
 * `client_id` is the https URL of the client's metadata, fetched SSRF-safely, validated and cached;
 * `http://localhost` clients get a virtual document built from their query (oauth.md, "Localhost
 * Client Development").
 */
import { type SafeFetchOptions, safeFetch } from '../identity/safe-fetch.js'
import { SafeFetchError } from '../identity/safe-fetch-errors.js'
import { InvalidClientError, InvalidClientMetadataError } from './errors.js'
import { parseScope, splitScope } from './scopes.js'
import type { OAuthStore } from './store.js'

/** The client metadata fields the server relies on (others are kept as they came). */
export interface OAuthClientMetadata {
  client_id: string
  application_type: 'web' | 'native'
  redirect_uris: string[]
  grant_types: string[]
  response_types: string[]
  scope: string
  token_endpoint_auth_method: 'none' | 'private_key_jwt'
  token_endpoint_auth_signing_alg?: string
  dpop_bound_access_tokens: true
  jwks?: { keys: Record<string, unknown>[] }
  jwks_uri?: string
  client_name?: string
  client_uri?: string
  logo_uri?: string
  tos_uri?: string
  policy_uri?: string
  [key: string]: unknown
}

/** A client, identified. */
export interface ResolvedClient {
  id: string
  metadata: OAuthClientMetadata
  /** `http://localhost` development client (always public). */
  loopback: boolean
  /** Listed in the server's trusted clients: its name and logo may be shown to users. */
  trusted: boolean
}

/** Options of {@link ClientResolver}. */
export interface ClientResolverOptions {
  store: Pick<OAuthStore, 'getCachedClient' | 'setCachedClient'>
  /**
   * Passed to the SSRF-safe fetch. `allowLoopback`/`allowHttp`/`ca` are for tests and local
   * development only; `allowHttp` also admits `http://` client IDs.
   */
  fetch?: Pick<SafeFetchOptions, 'allowLoopback' | 'allowHttp' | 'ca' | 'lookup' | 'timeoutMs'>
  /** How long a fetched document is trusted (default 10 minutes). */
  cacheTtlMs?: number
  /** Accept `http://localhost` development clients (default true, as the spec encourages). */
  allowLoopbackClients?: boolean
  trustedClients?: readonly string[]
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]'])
const bad = (msg: string) => new InvalidClientMetadataError(msg)

/** Whether `uri` is an http URL on a loopback IP (ports are not matched for those, RFC 8252 §7.3). */
export function isLoopbackRedirect(uri: string): boolean {
  if (!URL.canParse(uri)) return false
  const url = new URL(uri)
  return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)
}

/** Whether `uri` is one of the client's redirect URIs (loopback ones compared without their port). */
export function matchRedirectUri(metadata: OAuthClientMetadata, uri: string): boolean {
  if (metadata.redirect_uris.includes(uri)) return true
  if (!isLoopbackRedirect(uri)) return false
  const strip = (u: string) => {
    const url = new URL(u)
    url.port = ''
    return url.href
  }
  const want = strip(uri)
  return metadata.redirect_uris.some((r) => isLoopbackRedirect(r) && strip(r) === want)
}

function checkRedirectUri(uri: unknown, type: 'web' | 'native', clientUrl: URL): void {
  if (typeof uri !== 'string' || !URL.canParse(uri)) throw bad(`Invalid redirect_uri ${String(uri)}`)
  const url = new URL(uri)
  if (url.hash) throw bad('redirect_uri must not contain a fragment')
  if (url.username || url.password) throw bad('redirect_uri must not contain credentials')
  if (url.protocol === 'https:') {
    if (type === 'native' && url.origin !== clientUrl.origin) {
      throw bad('https redirect_uri of a native client must share the client_id origin')
    }
    return
  }
  if (url.protocol === 'http:') {
    if (!LOOPBACK_HOSTS.has(url.hostname)) throw bad('http redirect_uri must use 127.0.0.1 or [::1]')
    return
  }
  // Private-use scheme: reverse domain of the client_id host, then ":/" and a path (no authority).
  if (type !== 'native') throw bad(`redirect_uri scheme ${url.protocol} requires application_type native`)
  const scheme = url.protocol.slice(0, -1)
  const reversed = clientUrl.hostname.split('.').reverse().join('.')
  if (scheme !== reversed) throw bad('custom redirect_uri scheme must be the reversed client_id hostname')
  if (!uri.startsWith(`${scheme}:/`) || uri.startsWith(`${scheme}://`)) {
    throw bad('custom scheme redirect_uri must be of the form scheme:/path')
  }
}

const isHttpsUrl = (v: unknown) =>
  typeof v === 'string' && URL.canParse(v) && new URL(v).protocol === 'https:'

/** Validate a client metadata document against the atproto profile. @throws {InvalidClientMetadataError} */
export function validateClientMetadata(
  doc: unknown,
  clientId: string,
  opts: { allowHttpUris?: boolean } = {},
): OAuthClientMetadata {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc))
    throw bad('Client metadata must be a JSON object')
  const m = doc as Record<string, unknown>
  if (m.client_id !== clientId) throw bad('client_id in the document does not match the URL it came from')
  const clientUrl = new URL(clientId)
  const type = m.application_type ?? 'web'
  if (type !== 'web' && type !== 'native') throw bad('application_type must be "web" or "native"')
  if (!Array.isArray(m.redirect_uris) || m.redirect_uris.length === 0) throw bad('redirect_uris is required')
  for (const uri of m.redirect_uris) checkRedirectUri(uri, type, clientUrl)
  const grants = m.grant_types
  if (!Array.isArray(grants) || !grants.includes('authorization_code')) {
    throw bad('grant_types must include authorization_code')
  }
  if (!grants.every((g) => g === 'authorization_code' || g === 'refresh_token')) {
    throw bad('Only authorization_code and refresh_token grants are allowed')
  }
  const responses = m.response_types
  if (!Array.isArray(responses) || !responses.includes('code') || !responses.every((r) => r === 'code')) {
    throw bad('response_types must be ["code"]')
  }
  if (typeof m.scope !== 'string') throw bad('scope is required')
  const scopes = splitScope(m.scope)
  if (!scopes.includes('atproto')) throw bad('scope must include "atproto"')
  for (const s of scopes) if (!parseScope(s)) throw bad(`Invalid scope "${s}"`)
  if (m.dpop_bound_access_tokens !== true) throw bad('dpop_bound_access_tokens must be true')
  const method = m.token_endpoint_auth_method ?? 'none'
  if (method === 'private_key_jwt') {
    const alg = m.token_endpoint_auth_signing_alg
    if (typeof alg !== 'string' || alg === 'none') throw bad('token_endpoint_auth_signing_alg is required')
    if ((m.jwks === undefined) === (m.jwks_uri === undefined)) throw bad('Exactly one of jwks or jwks_uri')
    if (m.jwks !== undefined) {
      const keys = (m.jwks as { keys?: unknown })?.keys
      if (!Array.isArray(keys) || keys.length === 0) throw bad('jwks must hold at least one key')
      for (const k of keys) {
        if (!k || typeof k !== 'object' || 'd' in k || 'k' in k) throw bad('jwks must hold public keys only')
      }
    }
    if (m.jwks_uri !== undefined && !isHttpsUrl(m.jwks_uri) && !opts.allowHttpUris) {
      throw bad('jwks_uri must be an https URL')
    }
  } else if (method !== 'none') {
    throw bad('token_endpoint_auth_method must be "none" or "private_key_jwt"')
  }
  if (m.client_uri !== undefined) {
    if (typeof m.client_uri !== 'string' || !URL.canParse(m.client_uri)) throw bad('Invalid client_uri')
    if (new URL(m.client_uri).hostname !== clientUrl.hostname)
      throw bad('client_uri must share the client_id host')
  }
  for (const f of ['logo_uri', 'tos_uri', 'policy_uri'] as const) {
    if (m[f] !== undefined && !isHttpsUrl(m[f])) throw bad(`${f} must be an https URL`)
  }
  return {
    ...m,
    client_id: clientId,
    application_type: type,
    redirect_uris: m.redirect_uris as string[],
    grant_types: grants as string[],
    response_types: responses as string[],
    scope: scopes.join(' '),
    token_endpoint_auth_method: method,
    dpop_bound_access_tokens: true,
  } as OAuthClientMetadata
}

/** The virtual metadata of an `http://localhost` client ID. @throws {InvalidClientError} */
export function loopbackClientMetadata(clientId: string): OAuthClientMetadata {
  if (!/^http:\/\/localhost(\/)?(\?|$)/.test(clientId)) {
    throw new InvalidClientError('Loopback client_id must be http://localhost with no port or path')
  }
  const url = new URL(clientId)
  for (const key of url.searchParams.keys()) {
    if (key !== 'redirect_uri' && key !== 'scope')
      throw new InvalidClientError(`Unexpected "${key}" in client_id`)
  }
  const scopeParams = url.searchParams.getAll('scope')
  if (scopeParams.length > 1)
    throw new InvalidClientError('Only one scope is allowed in a loopback client_id')
  const scopes = splitScope(scopeParams[0] ?? 'atproto')
  if (!scopes.includes('atproto'))
    throw new InvalidClientError('Loopback client scope must include "atproto"')
  for (const s of scopes) if (!parseScope(s)) throw new InvalidClientError(`Invalid scope "${s}"`)
  const redirects = url.searchParams.getAll('redirect_uri')
  const redirect_uris = redirects.length ? redirects : ['http://127.0.0.1/', 'http://[::1]/']
  for (const r of redirect_uris) {
    if (!isLoopbackRedirect(r))
      throw new InvalidClientError('Loopback redirect_uri must be http://127.0.0.1 or [::1]')
  }
  return {
    client_id: clientId,
    client_name: 'Development client',
    application_type: 'native',
    redirect_uris,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    scope: scopes.join(' '),
    token_endpoint_auth_method: 'none',
    dpop_bound_access_tokens: true,
  }
}

/** Resolves `client_id` values to validated metadata, with caching and request coalescing. */
export class ClientResolver {
  private readonly inflight = new Map<string, Promise<OAuthClientMetadata>>()
  private readonly trusted: Set<string>

  constructor(private readonly options: ClientResolverOptions) {
    this.trusted = new Set(options.trustedClients ?? [])
  }

  /** @throws {InvalidClientError} {@link InvalidClientMetadataError} */
  async resolve(clientId: string | null | undefined): Promise<ResolvedClient> {
    if (!clientId) throw new InvalidClientError('client_id is required')
    const trusted = this.trusted.has(clientId)
    if (clientId.startsWith('http://localhost')) {
      if (this.options.allowLoopbackClients === false)
        throw new InvalidClientError('Loopback clients are disabled')
      return { id: clientId, metadata: loopbackClientMetadata(clientId), loopback: true, trusted }
    }
    this.checkClientId(clientId)
    const cached = await this.options.store.getCachedClient(clientId)
    if (cached) return { id: clientId, metadata: cached, loopback: false, trusted }
    let pending = this.inflight.get(clientId)
    if (!pending) {
      pending = this.fetchMetadata(clientId).finally(() => this.inflight.delete(clientId))
      this.inflight.set(clientId, pending)
    }
    return { id: clientId, metadata: await pending, loopback: false, trusted }
  }

  private checkClientId(clientId: string): void {
    if (!URL.canParse(clientId)) throw new InvalidClientError('client_id must be a URL')
    const url = new URL(clientId)
    const httpOk = url.protocol === 'http:' && this.options.fetch?.allowHttp
    if (url.protocol !== 'https:' && !httpOk) throw new InvalidClientError('client_id must be an https URL')
    if (url.username || url.password || url.hash)
      throw new InvalidClientError('client_id must not have credentials or a fragment')
    if (url.href !== clientId) throw new InvalidClientError('client_id must be in canonical form')
    if (url.pathname === '/' || url.pathname.endsWith('/')) {
      throw new InvalidClientError('client_id must have a path that does not end with "/"')
    }
  }

  private async fetchMetadata(clientId: string): Promise<OAuthClientMetadata> {
    let res: Awaited<ReturnType<typeof safeFetch>>
    try {
      res = await safeFetch(clientId, {
        ...this.options.fetch,
        headers: { accept: 'application/json' },
        maxBytes: 64 * 1024,
        maxRedirects: 0,
      })
    } catch (err) {
      const why = err instanceof SafeFetchError ? err.message : 'fetch failed'
      throw new InvalidClientMetadataError(`Could not fetch client metadata: ${why}`, { cause: err })
    }
    // The document must be served directly: 200 (not another 2xx, not a redirect), JSON.
    if (res.status !== 200) throw bad(`Client metadata fetch returned HTTP ${res.status}`)
    const type = res.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase()
    if (type !== 'application/json') throw bad('Client metadata must be served as application/json')
    let doc: unknown
    try {
      doc = res.json()
    } catch (err) {
      throw new InvalidClientMetadataError('Client metadata is not valid JSON', { cause: err })
    }
    const metadata = validateClientMetadata(doc, clientId, { allowHttpUris: this.options.fetch?.allowHttp })
    const ttl = this.options.cacheTtlMs ?? 10 * 60_000
    await this.options.store.setCachedClient(clientId, metadata, Date.now() + ttl)
    return metadata
  }
}
