/** Base class of every error raised by {@link safeFetch}. */
export class SafeFetchError extends Error {
  override name = 'SafeFetchError'
  constructor(
    message: string,
    /** The URL being fetched when the error happened (after redirects). */
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** The URL, its scheme, or an address its hostname resolves to is not allowed. */
export class SsrfBlockedError extends SafeFetchError {
  override name = 'SsrfBlockedError'
}

/** The whole fetch (all redirect hops and the body) did not finish within the time limit. */
export class FetchTimeoutError extends SafeFetchError {
  override name = 'FetchTimeoutError'
}

/** The response body exceeded the configured size limit. */
export class ResponseTooLargeError extends SafeFetchError {
  override name = 'ResponseTooLargeError'
}

/** More redirects than allowed, or a redirect without a usable `Location`. */
export class TooManyRedirectsError extends SafeFetchError {
  override name = 'TooManyRedirectsError'
}

/** DNS failure, connection refused, TLS failure or a broken response stream. */
export class FetchNetworkError extends SafeFetchError {
  override name = 'FetchNetworkError'
}
