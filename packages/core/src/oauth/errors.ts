/**
 * OAuth errors (RFC 6749 §5.2, RFC 9449, RFC 9126): each class knows its wire body
 * `{ error, error_description }`, its HTTP status and any headers it must carry.
 */

/** Options shared by the OAuth error constructors. */
export interface OAuthErrorOptions {
  headers?: Record<string, string>
  cause?: unknown
}

/** Base OAuth error. `error` is the registered error code sent on the wire. */
export class OAuthError extends Error {
  override name = 'OAuthError'
  readonly headers: Record<string, string>
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    options: OAuthErrorOptions = {},
  ) {
    super(description, options.cause === undefined ? {} : { cause: options.cause })
    this.headers = options.headers ?? {}
  }

  toJSON(): { error: string; error_description: string } {
    return { error: this.error, error_description: this.description }
  }

  /** JSON response; never cached (RFC 6749 §5.1). */
  toResponse(extraHeaders?: HeadersInit): Response {
    const headers = new Headers(extraHeaders)
    for (const [k, v] of Object.entries(this.headers)) headers.set(k, v)
    headers.set('content-type', 'application/json')
    headers.set('cache-control', 'no-store')
    return new Response(JSON.stringify(this.toJSON()), { status: this.status, headers })
  }
}

/** 400 `invalid_request`: a parameter is missing, repeated, malformed or not allowed. */
export class OAuthInvalidRequestError extends OAuthError {
  override name = 'OAuthInvalidRequestError'
  constructor(description: string, options?: OAuthErrorOptions) {
    super(400, 'invalid_request', description, options)
  }
}

/** 400 `invalid_client`: unknown client, bad metadata or failed client authentication. */
export class InvalidClientError extends OAuthError {
  override name = 'InvalidClientError'
  constructor(description: string, options?: OAuthErrorOptions) {
    super(400, 'invalid_client', description, options)
  }
}

/** 400 `invalid_client_metadata`: the client metadata document is not acceptable. */
export class InvalidClientMetadataError extends OAuthError {
  override name = 'InvalidClientMetadataError'
  constructor(description: string, options?: OAuthErrorOptions) {
    super(400, 'invalid_client_metadata', description, options)
  }
}

/** 400 `invalid_grant`: code or refresh token invalid, expired, revoked, reused or bound elsewhere. */
export class InvalidGrantError extends OAuthError {
  override name = 'InvalidGrantError'
  constructor(description: string, options?: OAuthErrorOptions) {
    super(400, 'invalid_grant', description, options)
  }
}

/** 400 `unauthorized_client`: the client may not use this grant type / response type. */
export class UnauthorizedClientError extends OAuthError {
  override name = 'UnauthorizedClientError'
  constructor(description: string, options?: OAuthErrorOptions) {
    super(400, 'unauthorized_client', description, options)
  }
}

/** 400 `unsupported_grant_type`. */
export class UnsupportedGrantTypeError extends OAuthError {
  override name = 'UnsupportedGrantTypeError'
  constructor(description: string, options?: OAuthErrorOptions) {
    super(400, 'unsupported_grant_type', description, options)
  }
}

/** 400 `invalid_scope`: unknown scope, not declared by the client, or beyond the grant. */
export class InvalidScopeError extends OAuthError {
  override name = 'InvalidScopeError'
  constructor(description: string, options?: OAuthErrorOptions) {
    super(400, 'invalid_scope', description, options)
  }
}

/** 400 `invalid_dpop_proof` (RFC 9449 §7): the `DPoP` header is missing or does not verify. */
export class InvalidDpopProofError extends OAuthError {
  override name = 'InvalidDpopProofError'
  constructor(description: string, options?: OAuthErrorOptions) {
    super(400, 'invalid_dpop_proof', description, options)
  }
}

/**
 * 400 `use_dpop_nonce` (RFC 9449 §8): the proof lacks the current server nonce. The response carries
 * the nonce to use in `DPoP-Nonce`, and clients retry with it.
 */
export class UseDpopNonceError extends OAuthError {
  override name = 'UseDpopNonceError'
  constructor(description: string, nonce: string) {
    super(400, 'use_dpop_nonce', description, { headers: { 'DPoP-Nonce': nonce } })
  }
}

/** 400 `access_denied`: the user or the server refused the request. */
export class AccessDeniedError extends OAuthError {
  override name = 'AccessDeniedError'
  constructor(description: string, options?: OAuthErrorOptions) {
    super(400, 'access_denied', description, options)
  }
}

/**
 * 401 `invalid_token` (RFC 6750 §3.1) on the resource side, with the `WWW-Authenticate: DPoP` challenge
 * naming the error (clients look for `use_dpop_nonce` there).
 */
export class InvalidTokenError extends OAuthError {
  override name = 'InvalidTokenError'
  constructor(description: string, options: OAuthErrorOptions & { error?: string } = {}) {
    const error = options.error ?? 'invalid_token'
    const challenge = `DPoP error="${error}", error_description="${description.replace(/["\\]/g, '')}", algs="ES256"`
    super(401, error, description, {
      ...options,
      headers: { 'WWW-Authenticate': challenge, ...options.headers },
    })
  }
}

/** 500 `server_error`; the description never reaches the client. */
export class ServerError extends OAuthError {
  override name = 'ServerError'
  constructor(description: string, options?: OAuthErrorOptions) {
    super(500, 'server_error', description, options)
  }
  override toJSON(): { error: string; error_description: string } {
    return { error: this.error, error_description: 'Internal server error' }
  }
}
