import { DataError } from '../data/errors.js'
/**
 * XRPC errors: each class knows its HTTP status and its wire body `{ error, message }`. Every thrown value
 * reaches the client through {@link toXrpcError}, the one place unknown errors become a 500.
 */
import { ValidationError } from '../lexicon/errors.js'
import { CarError } from '../repo/errors.js'

/** Default human messages per status, as the reference implementation words them. */
const STATUS_MESSAGES: Record<number, string> = {
  400: 'Invalid Request',
  401: 'Authentication Required',
  403: 'Forbidden',
  404: 'XRPC Not Supported',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  426: 'Upgrade Required',
  429: 'Rate Limit Exceeded',
  500: 'Internal Server Error',
  501: 'Method Not Implemented',
  502: 'Upstream Failure',
  503: 'Not Enough Resources',
  504: 'Upstream Timeout',
}

/** Wire body of every XRPC error response and error frame. */
export interface XrpcErrorBody {
  error: string
  message?: string
}

/** Options shared by the error constructors. */
export interface XrpcErrorOptions {
  /** Extra response headers (e.g. `WWW-Authenticate`, `RateLimit-*`). */
  headers?: Record<string, string>
  cause?: unknown
}

/** Base XRPC error: `error` is the wire error name, `status` the HTTP status. */
export class XRPCError extends Error {
  override name = 'XRPCError'
  /** HTTP status code (400-599). */
  readonly status: number
  /** Error type name sent on the wire (ASCII, no whitespace). */
  readonly error: string
  /** Extra headers to send with the error response. */
  readonly headers: Record<string, string>

  constructor(status: number, error: string, message?: string, options: XrpcErrorOptions = {}) {
    super(
      message || STATUS_MESSAGES[status] || error,
      options.cause === undefined ? {} : { cause: options.cause },
    )
    this.status = Number.isInteger(status) && status >= 400 && status < 600 ? status : 500
    this.error = error
    this.headers = options.headers ?? {}
  }

  /** Body sent to clients. 500s never expose their message: it may carry internals. */
  toJSON(): XrpcErrorBody {
    if (this.status === 500) return { error: this.error, message: STATUS_MESSAGES[500] }
    return { error: this.error, message: this.message }
  }

  /** The HTTP response for this error (JSON body plus its headers). */
  toResponse(extraHeaders?: HeadersInit): Response {
    const headers = new Headers(extraHeaders)
    for (const [k, v] of Object.entries(this.headers)) headers.set(k, v)
    headers.set('content-type', 'application/json; charset=utf-8')
    return new Response(JSON.stringify(this.toJSON()), { status: this.status, headers })
  }
}

/** 400: the request was invalid and was not processed. `error` may name a lexicon-declared error. */
export class InvalidRequestError extends XRPCError {
  override name = 'InvalidRequestError'
  constructor(message?: string, error = 'InvalidRequest', options?: XrpcErrorOptions) {
    super(400, error, message, options)
  }
}

/** 401: credentials missing or invalid; always carries a `WWW-Authenticate` challenge. */
export class AuthRequiredError extends XRPCError {
  override name = 'AuthRequiredError'
  constructor(
    message?: string,
    error = 'AuthenticationRequired',
    options: XrpcErrorOptions & { wwwAuthenticate?: string } = {},
  ) {
    const headers = { 'WWW-Authenticate': options.wwwAuthenticate ?? 'Bearer', ...options.headers }
    super(401, error, message, { ...options, headers })
  }
}

/** 403: authenticated but not allowed. */
export class ForbiddenError extends XRPCError {
  override name = 'ForbiddenError'
  constructor(message?: string, error = 'Forbidden', options?: XrpcErrorOptions) {
    super(403, error, message, options)
  }
}

/** 413: body over the configured limit. */
export class PayloadTooLargeError extends XRPCError {
  override name = 'PayloadTooLargeError'
  constructor(message = 'request entity too large', error = 'PayloadTooLarge', options?: XrpcErrorOptions) {
    super(413, error, message, options)
  }
}

/** 415: unsupported `Content-Encoding`. */
export class UnsupportedMediaTypeError extends XRPCError {
  override name = 'UnsupportedMediaTypeError'
  constructor(message?: string, error = 'UnsupportedMediaType', options?: XrpcErrorOptions) {
    super(415, error, message, options)
  }
}

/** State of a rate limiter, reported in `RateLimit-*` headers. */
export interface RateLimitStatus {
  limit: number
  remaining: number
  /** Epoch milliseconds at which points are restored. */
  resetAt: number
  /** Window length in seconds, for `RateLimit-Policy`. */
  windowSeconds: number
}

/** `RateLimit-*` headers as the reference PDS sends them. */
export function rateLimitHeaders(status: RateLimitStatus): Record<string, string> {
  return {
    'RateLimit-Limit': String(status.limit),
    'RateLimit-Remaining': String(Math.max(0, status.remaining)),
    'RateLimit-Reset': String(Math.floor(status.resetAt / 1000)),
    'RateLimit-Policy': `${status.limit};w=${status.windowSeconds}`,
  }
}

/** 429: a rate limit was exceeded; carries `RateLimit-*` and `Retry-After` headers. */
export class RateLimitExceededError extends XRPCError {
  override name = 'RateLimitExceededError'
  constructor(
    readonly rateLimit: RateLimitStatus,
    message?: string,
    error = 'RateLimitExceeded',
  ) {
    const retryAfter = Math.max(0, Math.ceil((rateLimit.resetAt - Date.now()) / 1000))
    super(429, error, message, {
      headers: { ...rateLimitHeaders(rateLimit), 'Retry-After': String(retryAfter) },
    })
  }
}

/**
 * 405: the NSID exists but takes another HTTP method (queries GET/HEAD, procedures POST, subscriptions
 * a GET upgrade). Carries the `Allow` header RFC 9110 asks for.
 */
export class MethodNotAllowedError extends XRPCError {
  override name = 'MethodNotAllowedError'
  constructor(method: string, allowed: string[], options: XrpcErrorOptions = {}) {
    super(405, 'MethodNotAllowed', `Incorrect HTTP method (${method}) expected ${allowed[0]}`, {
      ...options,
      headers: { Allow: allowed.join(', '), ...options.headers },
    })
  }
}

/** 500: a bug or failure on our side; its message is logged, never sent. */
export class InternalServerError extends XRPCError {
  override name = 'InternalServerError'
  constructor(message?: string, error = 'InternalServerError', options?: XrpcErrorOptions) {
    super(500, error, message, options)
  }
}

/** 501: the endpoint is not implemented here. */
export class MethodNotImplementedError extends XRPCError {
  override name = 'MethodNotImplementedError'
  constructor(message?: string, error = 'MethodNotImplemented', options?: XrpcErrorOptions) {
    super(501, error, message, options)
  }
}

/** 502: an upstream service failed. */
export class UpstreamFailureError extends XRPCError {
  override name = 'UpstreamFailureError'
  constructor(message?: string, error = 'UpstreamFailure', options?: XrpcErrorOptions) {
    super(502, error, message, options)
  }
}

/** 503: out of some resource (capacity, storage). */
export class NotEnoughResourcesError extends XRPCError {
  override name = 'NotEnoughResourcesError'
  constructor(message?: string, error = 'NotEnoughResources', options?: XrpcErrorOptions) {
    super(503, error, message, options)
  }
}

/** 504: an upstream service did not answer in time. */
export class UpstreamTimeoutError extends XRPCError {
  override name = 'UpstreamTimeoutError'
  constructor(message?: string, error = 'UpstreamTimeout', options?: XrpcErrorOptions) {
    super(504, error, message, options)
  }
}

/** Subscription error: the requested cursor is ahead of the stream (event-stream spec). */
export class FutureCursorError extends InvalidRequestError {
  override name = 'FutureCursorError'
  constructor(message = 'Cursor in the future.') {
    super(message, 'FutureCursor')
  }
}

/** Subscription error: the consumer cannot keep up and is being disconnected. */
export class ConsumerTooSlowError extends XRPCError {
  override name = 'ConsumerTooSlowError'
  constructor(message = 'Stream consumer too slow') {
    super(400, 'ConsumerTooSlow', message)
  }
}

/**
 * The single mapping of any thrown value to an XRPC error. XRPC errors pass through; data that is not
 * valid atproto data (JSON, CBOR, CIDs) and malformed CARs are the client's: 400 InvalidRequest;
 * anything else is a 500 whose details stay in `cause` (for logs) and never reach the wire.
 */
export function toXrpcError(err: unknown): XRPCError {
  if (err instanceof XRPCError) return err
  // Data that fails its lexicon is the client's fault; the message names the field.
  if (err instanceof ValidationError) return new InvalidRequestError(err.message, undefined, { cause: err })
  // Malformed CBOR, CIDs or CARs from the outside are bad input, not a server fault.
  if (err instanceof DataError || err instanceof CarError)
    return new InvalidRequestError(err.message, 'InvalidRequest', { cause: err })
  return new InternalServerError(undefined, undefined, { cause: err })
}
