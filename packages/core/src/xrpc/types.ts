/** Shared types of the XRPC server: method configs, handler context and output, validation hook. */

import type { ParamsSchema } from './params.js'
import type { RateLimitStatus } from './xrpc-error.js'

/** Details of the connection that a Web `Request` cannot carry (filled in by the host glue). */
export interface ConnectionInfo {
  /** Client IP address (after `trustProxy` handling), for rate limiting and logs. */
  remoteAddress?: string
}

/**
 * Validation hook implemented by the lexicon engine. Each method throws to reject: errors that are not
 * XRPC errors become 400 InvalidRequest for params/input and 500 for output (as the reference does).
 */
export interface Validator {
  /** Decode and validate query parameters of `nsid`; returns the typed params. */
  params?(nsid: string, raw: URLSearchParams): Record<string, unknown>
  /** Validate a parsed JSON input body of `nsid`; returns the (possibly normalized) body. */
  input?(nsid: string, body: unknown): unknown
  /** Validate a JSON output body of `nsid` before it is sent. */
  output?(nsid: string, body: unknown): void
  /** Validate a subscription message of `nsid` (not pre-encoded frames) before it is sent. */
  message?(nsid: string, message: unknown): void
}

/** What the server knows about a request before the handler runs. */
export interface RequestContext<P = Record<string, unknown>> {
  nsid: string
  params: P
  request: Request
  connection: ConnectionInfo
  /** Aborted when the client goes away. */
  signal: AbortSignal
}

/**
 * Verifies credentials; throws AuthRequiredError/ForbiddenError to reject. A result object with
 * {@link AuthResponseHeaders} has those headers set on the method's response, success or error.
 */
export type AuthVerifier<A = unknown> = (ctx: RequestContext) => Promise<A> | A

/**
 * Headers an auth result asks for on its response (e.g. `DPoP-Nonce`: clients must refuse a DPoP
 * response without one, oauth.md), whether the handler succeeds or fails.
 */
export interface AuthResponseHeaders {
  responseHeaders?: Record<string, string>
}

/** Decoded request body. JSON bodies arrive parsed; anything else streams, size-limited. */
export type HandlerInput =
  | { encoding: 'application/json'; body: unknown }
  | { encoding: string; body: ReadableStream<Uint8Array> }

/** Context passed to a query/procedure handler. */
export interface HandlerContext<P = Record<string, unknown>, A = unknown> extends RequestContext<P> {
  input: HandlerInput | undefined
  auth: A
  /** Headers added to the response (e.g. rate-limit status); handlers may add their own. */
  responseHeaders: Headers
}

/**
 * Handler result: nothing (empty 200), a body with its encoding (JSON values are serialized, bytes and
 * streams are sent as they are), or a ready `Response` (pass-through, e.g. proxying).
 */
export type HandlerOutput =
  | undefined
  | Response
  | {
      encoding: string
      body: unknown
      headers?: HeadersInit
      status?: number
    }

/** Handler of a query or procedure. */
export type Handler<P = Record<string, unknown>, A = unknown> = (
  ctx: HandlerContext<P, A>,
) => Promise<HandlerOutput> | HandlerOutput

/** Rate-limit hook: throw RateLimitExceededError to refuse, or return a status to report in headers. */
export type RateLimiter = (
  ctx: RequestContext & { auth: unknown },
) => Promise<RateLimitStatus | undefined> | RateLimitStatus | undefined

/** Input declaration of a procedure. */
export interface InputSpec {
  /** Accepted MIME types: `application/json`, `*\/*`, `image/*`, or a comma-separated list. */
  encoding: string
  /** Override the server's size limit for this method, in bytes. */
  maxSize?: number
}

/** Options common to queries and procedures. */
export interface MethodConfig<P = Record<string, unknown>, A = unknown> {
  /** Plain lexicon-style params schema; when absent the server's {@link Validator} decides. */
  params?: ParamsSchema
  /** Declared output encoding; when set, handlers returning another encoding are a 500. */
  output?: { encoding: string }
  auth?: AuthVerifier<A>
  rateLimit?: RateLimiter
  handler: Handler<P, A>
}

/** Options of a procedure: a query's plus its input. */
export interface ProcedureConfig<P = Record<string, unknown>, A = unknown> extends MethodConfig<P, A> {
  /** Omit for procedures that take no body. */
  input?: InputSpec
}

/** A message yielded by a subscription handler: `$type` (or `t`) names the frame type. */
export type SubscriptionMessage = { $type?: string; t?: string; [key: string]: unknown }

/** Context of a subscription handler. */
export interface SubscriptionContext<P = Record<string, unknown>, A = unknown> extends RequestContext<P> {
  auth: A
}

/** Options of a subscription. */
export interface SubscriptionConfig<P = Record<string, unknown>, A = unknown> {
  params?: ParamsSchema
  auth?: AuthVerifier<A>
  /** Yields messages (or pre-encoded frames); a throw becomes an error frame, then the socket closes. */
  handler: (ctx: SubscriptionContext<P, A>) => AsyncIterable<SubscriptionMessage | Uint8Array | unknown>
}
