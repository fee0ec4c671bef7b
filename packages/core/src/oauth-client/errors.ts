/** Errors of the OAuth client. Each says which step failed; apps show `message` or map `name`. */

/** Base class of every OAuth client failure. */
export class OAuthClientError extends Error {
  override name = 'OAuthClientError'
}

/** The login input (handle, DID or PDS URL) could not be resolved to an authorization server. */
export class OAuthResolveError extends OAuthClientError {
  override name = 'OAuthResolveError'
}

/** A server's metadata document is missing, malformed or does not meet the atproto profile. */
export class OAuthMetadataError extends OAuthClientError {
  override name = 'OAuthMetadataError'
}

/**
 * The authorization response (callback) is not acceptable: unknown or reused `state`, wrong `iss`, an
 * error from the server (`error` holds its code, e.g. `access_denied`), or a failed code exchange.
 */
export class OAuthCallbackError extends OAuthClientError {
  override name = 'OAuthCallbackError'
  constructor(
    message: string,
    /** The OAuth error code, when the server sent one. */
    readonly error?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/**
 * The token response names an account the authorization server is not authoritative for, or another
 * account than the one the login started with (the atproto `sub` check).
 */
export class OAuthIdentityMismatchError extends OAuthCallbackError {
  override name = 'OAuthIdentityMismatchError'
}

/** The session cannot be used anymore (revoked, refresh refused, signed out): sign in again. */
export class OAuthSessionExpiredError extends OAuthClientError {
  override name = 'OAuthSessionExpiredError'
  constructor(
    message: string,
    readonly sessionId: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** Another process holds the refresh lease and did not finish within the wait. */
export class OAuthRefreshTimeoutError extends OAuthClientError {
  override name = 'OAuthRefreshTimeoutError'
}
