/**
 * Client authentication at the PAR, token and revocation endpoints: `none` for public clients,
 * `private_key_jwt` (RFC 7523 client assertions) for confidential ones, and the session binding to the
 * key that authenticated first.
 */
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  type JSONWebKeySet,
  type JWTPayload,
  jwtVerify,
} from 'jose'
import { type SafeFetchOptions, safeFetch } from '../identity/safe-fetch.js'
import type { ResolvedClient } from './client-metadata.js'
import { InvalidClientError } from './errors.js'
import type { OAuthStore } from './store.js'

/** How a client authenticated; confidential sessions stay bound to this key. */
export type ClientAuth =
  | { method: 'none' }
  | { method: 'private_key_jwt'; kid: string; alg: string; jkt: string }

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** Whether two authentications used the same method and key (kid, alg and thumbprint). */
export function sameClientAuth(a: ClientAuth, b: ClientAuth): boolean {
  if (a.method === 'none' || b.method === 'none') return a.method === b.method
  return a.kid === b.kid && a.alg === b.alg && a.jkt === b.jkt
}

/**
 * Public verification keys of a client JWKS. Keys marked `revoked` are dropped; `key_ops` and `ext` are
 * dropped too, since clients often publish the private key's ops (`sign`), which WebCrypto refuses on
 * a public key import.
 */
function usableKeys(jwks: JSONWebKeySet): JSONWebKeySet {
  const keys = jwks.keys
    .filter((k) => !(k as { revoked?: unknown }).revoked && (k.use === undefined || k.use === 'sig'))
    .map(({ key_ops: _ops, ext: _ext, ...k }) => k)
  return { keys }
}

/** Options of {@link ClientAuthenticator}. */
export interface ClientAuthenticatorOptions {
  /** The server's issuer: the required `aud` of assertions. */
  issuer: string
  store: Pick<OAuthStore, 'unique'>
  /** Fetch options for `jwks_uri` (same meaning as for client metadata). */
  fetch?: Pick<SafeFetchOptions, 'allowLoopback' | 'allowHttp' | 'ca' | 'lookup' | 'timeoutMs'>
  /** How long a fetched JWKS is used (default 10 minutes). */
  jwksTtlMs?: number
  /** Oldest accepted assertion `iat`, seconds (default 120). */
  maxAssertionAgeSec?: number
}

/** Verifies client credentials in a form body against the client's metadata. */
export class ClientAuthenticator {
  private readonly jwksCache = new Map<string, { jwks: JSONWebKeySet; expiresAt: number }>()

  constructor(private readonly options: ClientAuthenticatorOptions) {}

  /** @throws {InvalidClientError} when the credentials do not match the client's declared method. */
  async authenticate(client: ResolvedClient, body: URLSearchParams): Promise<ClientAuth> {
    const assertionType = body.get('client_assertion_type')
    const assertion = body.get('client_assertion')
    if (body.has('client_secret')) throw new InvalidClientError('client_secret is not allowed')
    if (client.metadata.token_endpoint_auth_method === 'none') {
      if (assertionType !== null || assertion !== null) {
        throw new InvalidClientError('Public clients must not send a client assertion')
      }
      return { method: 'none' }
    }
    if (assertionType !== CLIENT_ASSERTION_TYPE) {
      throw new InvalidClientError(`client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`)
    }
    if (!assertion) throw new InvalidClientError('client_assertion is required')
    return this.verifyAssertion(client, assertion)
  }

  private async jwks(client: ResolvedClient): Promise<JSONWebKeySet> {
    const { metadata } = client
    if (metadata.jwks) return metadata.jwks as unknown as JSONWebKeySet
    const uri = metadata.jwks_uri
    if (!uri) throw new InvalidClientError('Client has no keys')
    const cached = this.jwksCache.get(uri)
    if (cached && cached.expiresAt > Date.now()) return cached.jwks
    let jwks: JSONWebKeySet
    try {
      const res = await safeFetch(uri, { ...this.options.fetch, maxBytes: 64 * 1024, maxRedirects: 0 })
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`)
      jwks = res.json() as JSONWebKeySet
      if (!Array.isArray(jwks?.keys)) throw new Error('not a JWKS')
    } catch (err) {
      throw new InvalidClientError(`Could not load the client's jwks_uri: ${(err as Error).message}`, {
        cause: err,
      })
    }
    if (this.jwksCache.size > 1000) this.jwksCache.clear()
    this.jwksCache.set(uri, { jwks, expiresAt: Date.now() + (this.options.jwksTtlMs ?? 10 * 60_000) })
    return jwks
  }

  private async verifyAssertion(client: ResolvedClient, assertion: string): Promise<ClientAuth> {
    const jwks = await this.jwks(client)
    const alg = client.metadata.token_endpoint_auth_signing_alg as string
    const maxAge = this.options.maxAssertionAgeSec ?? 120
    let payload: JWTPayload
    let kid: string | undefined
    let jkt: string
    try {
      const result = await jwtVerify(assertion, createLocalJWKSet(usableKeys(jwks)), {
        algorithms: [alg],
        issuer: client.id,
        subject: client.id,
        audience: this.options.issuer,
        maxTokenAge: maxAge,
        requiredClaims: ['iat', 'jti'],
        clockTolerance: 10,
      })
      payload = result.payload
      kid = result.protectedHeader.kid
      jkt = await calculateJwkThumbprint(await exportJWK(result.key))
    } catch (err) {
      throw new InvalidClientError(`Invalid client assertion: ${(err as Error).message}`, { cause: err })
    }
    // The session is bound to the key id, so assertions must name one.
    if (!kid) throw new InvalidClientError('Client assertion must have a "kid" header')
    const jti = payload.jti as string
    const ttlMs = Math.max(maxAge + 10, (payload.exp ?? 0) - Date.now() / 1000) * 1000
    if (!(await this.options.store.unique('client-assertion', `${client.id}:${jti}`, ttlMs))) {
      throw new InvalidClientError('Client assertion replayed')
    }
    return { method: 'private_key_jwt', kid, alg, jkt }
  }
}
