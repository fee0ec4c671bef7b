/**
 * Resource-server side: verify `Authorization: DPoP <token>` plus its `DPoP` proof on XRPC requests
 * (plug into `authByScheme({ dpop })` or use as a method's auth verifier).
 */

import { parseAuthorization } from '../xrpc/auth.js'
import type { AuthVerifier, RequestContext } from '../xrpc/types.js'
import { AuthRequiredError } from '../xrpc/xrpc-error.js'
import type { DpopVerifier } from './dpop.js'
import { OAuthError } from './errors.js'
import { ScopePermissions } from './scopes.js'
import type { OAuthStore } from './store.js'
import { AccessTokenError, type TokenSigner } from './tokens.js'

/** Result of {@link dpopAccessTokenVerifier}. */
export interface OAuthAuth {
  type: 'oauth'
  /** The account DID (`sub`). */
  did: string
  /** Granted permissions; pass to `checkScope` / `assertScope`. */
  scopes: ScopePermissions
  clientId: string
  /** OAuth session (token family) id. */
  sessionId: string
  /** Thumbprint of the client's DPoP key. */
  jkt: string
  token: string
  /** Send this as `DPoP-Nonce` on the response (clients keep their nonce fresh from it). */
  dpopNonce: string | undefined
}

/** Options of {@link dpopAccessTokenVerifier}. */
export interface DpopAccessTokenVerifierOptions {
  /** The authorization server's token key (verifies signatures). */
  signer: Pick<TokenSigner, 'verify'>
  issuer: string
  /** Accepted `aud` values. */
  audience: string | string[]
  dpop: DpopVerifier
  /**
   * Public origin of this resource server: `htu` is checked against it plus the request path, since
   * behind a proxy `request.url` may not be what the client addressed. Default: `request.url`.
   */
  publicUrl?: string
  /**
   * Revocation check: when set, tokens of revoked or ended sessions are refused at once (one store
   * read per request). Without it, revocation takes effect when the access token expires.
   */
  store?: Pick<OAuthStore, 'getSession'>
}

function challenge(error: string, description: string): string {
  return `DPoP error="${error}", error_description="${description.replace(/["\\]/g, '')}", algs="ES256"`
}

function authError(error: string, description: string, nonce?: string, cause?: unknown): AuthRequiredError {
  const headers: Record<string, string> = {
    'Access-Control-Expose-Headers': 'DPoP-Nonce, WWW-Authenticate',
  }
  if (nonce) headers['DPoP-Nonce'] = nonce
  const wire =
    error === 'invalid_token' ? (description.includes('expired') ? 'ExpiredToken' : 'InvalidToken') : error
  return new AuthRequiredError(description, wire, {
    wwwAuthenticate: challenge(error, description),
    headers,
    cause,
  })
}

/** Verifier of DPoP-bound OAuth access tokens for XRPC methods. */
export function dpopAccessTokenVerifier(options: DpopAccessTokenVerifierOptions): AuthVerifier<OAuthAuth> {
  const publicOrigin = options.publicUrl ? new URL(options.publicUrl).origin : undefined
  return async ({ request }: RequestContext): Promise<OAuthAuth> => {
    const nonce = options.dpop.nonces?.current()
    const auth = parseAuthorization(request)
    if (!auth) throw authError('invalid_token', 'Authorization required', nonce)
    if (auth.scheme !== 'dpop' || !auth.credentials) {
      throw authError('invalid_token', 'DPoP-bound access token expected (Authorization: DPoP)', nonce)
    }
    const token = auth.credentials
    let claims: Awaited<ReturnType<TokenSigner['verify']>>
    try {
      claims = await options.signer.verify(token, { issuer: options.issuer, audience: options.audience })
    } catch (err) {
      const msg = err instanceof AccessTokenError ? err.message : 'Invalid access token'
      throw authError('invalid_token', msg, nonce, err)
    }
    const url = new URL(request.url)
    const htu = publicOrigin ? `${publicOrigin}${url.pathname}` : request.url
    let jkt: string
    try {
      ;({ jkt } = await options.dpop.verify({
        proof: request.headers.get('dpop'),
        method: request.method,
        url: htu,
        accessToken: token,
      }))
    } catch (err) {
      if (err instanceof OAuthError) throw authError(err.error, err.description, nonce, err)
      throw err
    }
    if (jkt !== claims.cnf.jkt)
      throw authError('invalid_token', 'Access token is bound to another DPoP key', nonce)
    if (options.store) {
      const session = await options.store.getSession(claims.sid)
      if (!session || session.revokedAt !== undefined || session.expiresAt <= Date.now()) {
        throw authError('invalid_token', 'Access token revoked', nonce)
      }
    }
    return {
      type: 'oauth',
      did: claims.sub,
      scopes: new ScopePermissions(claims.scope),
      clientId: claims.client_id,
      sessionId: claims.sid,
      jkt,
      token,
      dpopNonce: nonce,
    }
  }
}
