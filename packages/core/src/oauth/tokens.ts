/**
 * Access tokens (ES256 JWTs, `typ: at+jwt`, DPoP-bound with `cnf.jkt`) and opaque refresh tokens
 * (only their SHA-256 is stored).
 */
import { createHash, randomBytes } from 'node:crypto'
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
  SignJWT,
} from 'jose'

/** Claims of an access token issued by this server. */
export interface AccessTokenClaims extends JWTPayload {
  iss: string
  aud: string
  sub: string
  jti: string
  iat: number
  exp: number
  scope: string
  client_id: string
  /** Session (token family) id, for revocation checks. */
  sid: string
  cnf: { jkt: string }
}

/** Why an access token was refused. */
export class AccessTokenError extends Error {
  override name = 'AccessTokenError'
  constructor(
    message: string,
    readonly expired = false,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

export const REFRESH_TOKEN_PREFIX = 'ref-'

/** A new opaque refresh token. */
export function newRefreshToken(): string {
  return `${REFRESH_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`
}

/** What the store keeps of a refresh token (a leaked table then yields no usable tokens). */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}

/** A random identifier (request ids, codes, session ids). */
export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('base64url')
}

/** The server's ES256 token signing key. */
export class TokenSigner {
  private constructor(
    private readonly privateKey: CryptoKey,
    private readonly publicKey: CryptoKey,
    /** Public JWK with `kid`, `alg` and `use`, as published in the server's JWKS. */
    readonly publicJwk: JWK,
  ) {}

  /**
   * Load a private ES256 JWK, or generate one (then tokens die with the process and other processes
   * cannot verify them: pass a persisted key in production).
   */
  static async create(privateJwk?: JWK): Promise<TokenSigner> {
    let priv: CryptoKey
    let pub: CryptoKey
    if (privateJwk) {
      if (privateJwk.kty !== 'EC' || privateJwk.crv !== 'P-256' || !privateJwk.d) {
        throw new TypeError('The OAuth signing key must be a private P-256 (ES256) JWK')
      }
      priv = (await importJWK({ ...privateJwk, alg: 'ES256' }, 'ES256')) as CryptoKey
      const { d: _d, ...rest } = privateJwk
      pub = (await importJWK({ ...rest, alg: 'ES256' }, 'ES256')) as CryptoKey
    } else {
      ;({ privateKey: priv, publicKey: pub } = await generateKeyPair('ES256', { extractable: true }))
    }
    const jwk = await exportJWK(pub)
    const kid = privateJwk?.kid ?? (await calculateJwkThumbprint(jwk))
    return new TokenSigner(priv, pub, { ...jwk, kid, alg: 'ES256', use: 'sig' })
  }

  /** Sign an access token. */
  sign(claims: AccessTokenClaims): Promise<string> {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: this.publicJwk.kid })
      .sign(this.privateKey)
  }

  /** Verify an access token's signature, type, issuer, audience and expiry. @throws {AccessTokenError} */
  async verify(
    token: string,
    expected: { issuer: string; audience: string | string[]; ignoreExpiry?: boolean },
  ): Promise<AccessTokenClaims> {
    try {
      const { payload } = await jwtVerify(token, this.publicKey, {
        algorithms: ['ES256'],
        typ: 'at+jwt',
        issuer: expected.issuer,
        audience: expected.audience,
        requiredClaims: ['sub', 'jti', 'exp', 'iat', 'scope', 'client_id', 'sid', 'cnf'],
        currentDate: expected.ignoreExpiry ? new Date(0) : undefined,
      })
      const c = payload as AccessTokenClaims
      if (typeof c.cnf?.jkt !== 'string') throw new AccessTokenError('Access token is not DPoP-bound')
      return c
    } catch (err) {
      if (err instanceof AccessTokenError) throw err
      throw new AccessTokenError(
        err instanceof joseErrors.JWTExpired ? 'Access token expired' : 'Invalid access token',
        err instanceof joseErrors.JWTExpired,
        { cause: err },
      )
    }
  }
}
