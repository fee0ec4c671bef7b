/**
 * The XRPC server on Web `Request`/`Response`: register queries, procedures and subscriptions by NSID,
 * answer with `fetch(request)`. Error handling follows the reference (bluesky-social/atproto
 * xrpc-server) status for status, and every failure body is `{ error, message }`.
 */
import {
  bodyPresence,
  limitedBody,
  matchesEncoding,
  normalizeMime,
  parseEncodingList,
  readJson,
} from './body.js'
import { type Cors, type CorsOptions, createCors } from './cors.js'
import { EncodedFrame } from './frames.js'
import { stringifyLexJson } from './lex-json.js'
import { extractNsid, pathOf } from './nsid-path.js'
import { decodeParams } from './params.js'
import { type ProxyOptions, proxyRequest } from './proxy.js'
import { pumpSubscription, type SocketLimits } from './subscription.js'
import type {
  AuthResponseHeaders,
  ConnectionInfo,
  Handler,
  HandlerInput,
  HandlerOutput,
  MethodConfig,
  ProcedureConfig,
  RateLimiter,
  RequestContext,
  SubscriptionConfig,
  Validator,
} from './types.js'
import type { SubscriptionHost, SubscriptionSocket } from './websocket.js'
import {
  InternalServerError,
  InvalidRequestError,
  MethodNotAllowedError,
  MethodNotImplementedError,
  rateLimitHeaders,
  toXrpcError,
  XRPCError,
} from './xrpc-error.js'

/** Options of {@link XrpcServer}. */
export interface XrpcServerOptions {
  /** Lexicon validation hook for params, JSON input and JSON output. */
  validator?: Validator
  /** Body size limits in bytes: JSON bodies (default 150 KiB) and any other body (default 100 MiB). */
  limits?: { json?: number; blob?: number }
  /** CORS settings; `false` disables CORS headers. */
  cors?: CorsOptions | false
  /** Rate limit applied to every XRPC request, before the method's own. */
  rateLimit?: RateLimiter
  /** Enables `atproto-proxy` forwarding of methods not implemented here. */
  proxy?: ProxyOptions
  /** Flow control of subscription sockets. */
  subscriptionLimits?: SocketLimits
  /** Called with the original error of every 500 (logging); defaults to `console.error`. */
  onInternalError?: (err: unknown, nsid: string | undefined) => void
}

type Kind = 'query' | 'procedure'
interface Method {
  kind: Kind
  config: ProcedureConfig<any, any>
  accepts: string[] | null
}

const JSON_TYPE = 'application/json'

/** XRPC router and server. One instance serves every `/xrpc/*` path of an app. */
export class XrpcServer implements SubscriptionHost {
  readonly #methods = new Map<string, Method>()
  readonly #subscriptions = new Map<string, SubscriptionConfig<any, any>>()
  readonly #routes = new Map<
    string,
    (request: Request, connection: ConnectionInfo) => Promise<Response> | Response
  >()
  readonly #cors: Cors | null
  readonly #jsonLimit: number
  readonly #blobLimit: number
  readonly #onInternalError: (err: unknown, nsid: string | undefined) => void

  constructor(readonly options: XrpcServerOptions = {}) {
    this.#cors = options.cors === false ? null : createCors(options.cors)
    this.#jsonLimit = options.limits?.json ?? 150 * 1024
    this.#blobLimit = options.limits?.blob ?? 100 * 1024 * 1024
    this.#onInternalError =
      options.onInternalError ??
      ((err, nsid) => console.error(`xrpc: unhandled error in ${nsid ?? 'request'}`, err))
  }

  /** Register a query (HTTP GET and HEAD). */
  query<P = Record<string, unknown>, A = unknown>(
    nsid: string,
    config: MethodConfig<P, A> | Handler<P, A>,
  ): this {
    return this.#add(nsid, 'query', typeof config === 'function' ? { handler: config } : config)
  }

  /** Register a procedure (HTTP POST). */
  procedure<P = Record<string, unknown>, A = unknown>(
    nsid: string,
    config: ProcedureConfig<P, A> | Handler<P, A>,
  ): this {
    return this.#add(nsid, 'procedure', typeof config === 'function' ? { handler: config } : config)
  }

  /** Register a subscription (WebSocket), served through a {@link SubscriptionHost} adapter. */
  subscription<P = Record<string, unknown>, A = unknown>(
    nsid: string,
    config: SubscriptionConfig<P, A>,
  ): this {
    this.#assertFree(nsid)
    this.#subscriptions.set(nsid, config)
    return this
  }

  /** Register a plain route under `/xrpc/` that is not an NSID method (e.g. `GET /xrpc/_health`). */
  route(
    method: 'GET' | 'POST',
    path: string,
    handler: (request: Request, connection: ConnectionInfo) => Promise<Response> | Response,
  ): this {
    this.#routes.set(`${method} ${path}`, handler)
    if (method === 'GET') this.#routes.set(`HEAD ${path}`, handler)
    return this
  }

  /** Whether a method or subscription is registered under `nsid`. */
  has(nsid: string): boolean {
    return this.#methods.has(nsid) || this.#subscriptions.has(nsid)
  }

  /** Whether `url` (path or absolute URL) belongs to this server: every `/xrpc/` path does. */
  owns(url: string): boolean {
    return pathOf(url).startsWith('/xrpc/')
  }

  /** Whether `url` is one of the registered subscription endpoints. */
  isSubscription(url: string): boolean {
    const nsid = extractNsid(pathOf(url))
    return nsid !== undefined && this.#subscriptions.has(nsid)
  }

  #assertFree(nsid: string): void {
    if (extractNsid(`/xrpc/${nsid}`) !== nsid) throw new TypeError(`invalid NSID: ${nsid}`)
    if (this.has(nsid)) throw new Error(`XRPC method already registered: ${nsid}`)
  }

  #add(nsid: string, kind: Kind, config: ProcedureConfig<any, any>): this {
    this.#assertFree(nsid)
    const accepts = config.input ? parseEncodingList(config.input.encoding) : null
    this.#methods.set(nsid, { kind, config, accepts })
    return this
  }

  /** Answer an HTTP request. Never rejects: every failure is an XRPC error response. */
  async fetch(request: Request, connection: ConnectionInfo = {}): Promise<Response> {
    let nsid: string | undefined
    let response: Response
    try {
      const path = pathOf(request.url)
      if (request.method === 'OPTIONS' && this.#cors) return this.#cors.preflight(request)
      const route = this.#routes.get(`${request.method} ${path}`)
      if (route) response = await route(request, connection)
      else {
        nsid = extractNsid(path)
        response = await this.#dispatch(request, path, nsid, connection)
      }
    } catch (err) {
      const xrpcErr = toXrpcError(err)
      if (xrpcErr.status === 500) this.#onInternalError(err, nsid)
      response = xrpcErr.toResponse()
    }
    if (this.#cors) {
      try {
        this.#cors.apply(response.headers)
      } catch {
        // Immutable headers (a Response passed through from fetch): copy once.
        response = new Response(response.body, response)
        this.#cors.apply(response.headers)
      }
    }
    return response
  }

  async #dispatch(
    request: Request,
    path: string,
    nsid: string | undefined,
    connection: ConnectionInfo,
  ): Promise<Response> {
    if (!path.startsWith('/xrpc/')) throw new XRPCError(404, 'NotFound', 'Not Found')
    if (nsid === undefined) throw new InvalidRequestError('invalid xrpc path')
    const base = (): RequestContext => ({
      nsid,
      params: {},
      request,
      connection,
      signal: request.signal,
    })
    const method = this.#methods.get(nsid)
    if (!method) {
      if (this.#subscriptions.has(nsid)) {
        // event-stream.md: 405 for non-GET, 426 without an Upgrade (upgrades go through the adapter).
        if (request.method !== 'GET' && request.method !== 'HEAD') {
          throw new MethodNotAllowedError(request.method, ['GET'])
        }
        throw new XRPCError(426, 'UpgradeRequired', 'This endpoint is a WebSocket subscription')
      }
      const target = request.headers.get('atproto-proxy')
      if (this.options.proxy && target !== null) {
        await this.options.rateLimit?.({ ...base(), auth: undefined })
        return proxyRequest(this.options.proxy, base(), target)
      }
      throw new MethodNotImplementedError()
    }
    const { kind, config } = method
    // 405 with `Allow` (the issue's acceptance and RFC 9110); the reference answers 400 InvalidRequest.
    const allowed = kind === 'procedure' ? ['POST'] : ['GET', 'HEAD']
    if (!allowed.includes(request.method)) throw new MethodNotAllowedError(request.method, allowed)

    const ctx = base()
    ctx.params = this.#params(nsid, config.params, request.url)
    const auth = config.auth ? await config.auth(ctx) : undefined
    const authHeaders = (auth as AuthResponseHeaders | undefined)?.responseHeaders
    try {
      const input = await this.#input(nsid, method, request)
      const responseHeaders = new Headers(authHeaders)
      for (const limiter of [this.options.rateLimit, config.rateLimit]) {
        const status = limiter ? await limiter({ ...ctx, auth }) : undefined
        if (status) for (const [k, v] of Object.entries(rateLimitHeaders(status))) responseHeaders.set(k, v)
      }
      const output = await config.handler({ ...ctx, auth, input, responseHeaders })
      return this.#respond(nsid, config, output, responseHeaders, request.method === 'HEAD')
    } catch (err) {
      if (!authHeaders || typeof authHeaders !== 'object') throw err
      // The auth's headers (a DPoP nonce) belong on error responses too.
      const xrpcErr = toXrpcError(err)
      if (xrpcErr.status === 500) this.#onInternalError(err, nsid)
      const response = xrpcErr.toResponse()
      for (const [k, v] of Object.entries(authHeaders)) response.headers.set(k, v)
      return response
    }
  }

  #params(nsid: string, schema: MethodConfig['params'], url: string): Record<string, unknown> {
    const q = url.indexOf('?')
    const search = new URLSearchParams(q === -1 ? '' : url.slice(q + 1))
    if (search.has('__proto__')) throw new InvalidRequestError('Invalid query parameter: __proto__')
    if (schema) return decodeParams(schema, search)
    const validate = this.options.validator?.params
    if (!validate) return Object.fromEntries(search)
    try {
      return validate(nsid, search)
    } catch (err) {
      throw asInvalidRequest(err)
    }
  }

  async #input(nsid: string, method: Method, request: Request): Promise<HandlerInput | undefined> {
    const presence = bodyPresence(request)
    if (!method.accepts) {
      if (presence === 'present')
        throw new InvalidRequestError('A request body was provided when none was expected')
      return undefined
    }
    if (presence !== 'present')
      throw new InvalidRequestError('A request body is expected but none was provided')
    const contentType = request.headers.get('content-type')
    const encoding = normalizeMime(contentType)
    if (!encoding) {
      throw new InvalidRequestError(
        contentType
          ? `Wrong request encoding (Content-Type): ${contentType}`
          : 'Request encoding (Content-Type) required but not provided',
      )
    }
    if (!matchesEncoding(method.accepts, encoding)) {
      throw new InvalidRequestError(`Wrong request encoding (Content-Type): ${encoding}`)
    }
    const declared = method.config.input?.maxSize
    if (encoding === JSON_TYPE && !method.accepts.includes('*/*')) {
      const body = await readJson(limitedBody(request, declared ?? this.#jsonLimit))
      const validate = this.options.validator?.input
      if (!validate) return { encoding, body }
      try {
        return { encoding, body: validate(nsid, body) }
      } catch (err) {
        throw asInvalidRequest(err)
      }
    }
    return { encoding, body: limitedBody(request, declared ?? this.#blobLimit) }
  }

  #respond(
    nsid: string,
    config: ProcedureConfig<any, any>,
    output: HandlerOutput,
    headers: Headers,
    head: boolean,
  ): Response {
    if (output instanceof Response) return output
    if (output === undefined || output === null) {
      if (config.output)
        throw new InternalServerError(`A response body is expected but none was provided (${nsid})`)
      return new Response(null, { status: 200, headers })
    }
    if (typeof output !== 'object' || typeof output.encoding !== 'string') {
      throw new InternalServerError(`Invalid handler output for ${nsid}`)
    }
    const encoding = normalizeMime(output.encoding === 'json' ? JSON_TYPE : output.encoding)
    if (!encoding) throw new InternalServerError(`Invalid response encoding for ${nsid}`)
    if (config.output && !matchesEncoding(parseEncodingList(config.output.encoding), encoding)) {
      throw new InternalServerError(`Invalid response encoding for ${nsid}: ${encoding}`)
    }
    if (output.headers) for (const [k, v] of new Headers(output.headers)) headers.set(k, v)
    const status = output.status ?? 200
    const { body } = output
    let payload: BodyInit | null
    if (body instanceof ReadableStream || body instanceof Uint8Array) {
      headers.set('content-type', encoding)
      payload = body as BodyInit
    } else if (encoding === JSON_TYPE) {
      try {
        this.options.validator?.output?.(nsid, body)
      } catch (err) {
        // An output that breaks its lexicon is our bug, never the client's.
        throw new InternalServerError(`Invalid output of ${nsid}: ${String(err)}`, undefined, { cause: err })
      }
      headers.set('content-type', 'application/json; charset=utf-8')
      payload = stringifyLexJson(body)
    } else if (typeof body === 'string') {
      headers.set('content-type', encoding)
      payload = body
    } else {
      throw new InternalServerError(`Invalid response body for ${nsid}`)
    }
    if (head) {
      if (payload instanceof ReadableStream) payload.cancel().catch(() => {})
      payload = null
    }
    return new Response(payload, { status, headers })
  }

  /** Run a subscription on an upgraded socket (called by the WebSocket adapter). */
  async handleSubscription(
    request: Request,
    socket: SubscriptionSocket,
    connection: ConnectionInfo = {},
  ): Promise<void> {
    const nsid = extractNsid(pathOf(request.url)) ?? ''
    const config = this.#subscriptions.get(nsid)
    await pumpSubscription(
      nsid,
      socket,
      async (signal) => {
        if (!config) throw new MethodNotImplementedError()
        const ctx: RequestContext = { nsid, params: {}, request, connection, signal }
        ctx.params = this.#params(nsid, config.params, request.url)
        const auth = config.auth ? await config.auth(ctx) : undefined
        const messages = config.handler({ ...ctx, auth })
        const validate = this.options.validator?.message
        return validate ? validatedMessages(nsid, messages, validate) : messages
      },
      this.options.subscriptionLimits,
      (err) => this.#onInternalError(err, nsid),
    )
  }
}

/** Validator failures are the client's fault: a 400 carrying the validator's message. */
function asInvalidRequest(err: unknown): XRPCError {
  if (err instanceof XRPCError) return err
  const message = err instanceof Error ? err.message : String(err)
  return new InvalidRequestError(message, undefined, { cause: err })
}

/**
 * Messages checked before they are framed. A message breaking its lexicon is our bug: a 500 error
 * frame. A plain iterator (not an async generator), so `return()` reaches the source even while a
 * `next()` is pending.
 */
function validatedMessages(
  nsid: string,
  source: AsyncIterable<unknown>,
  validate: (nsid: string, message: unknown) => void,
): AsyncIterable<unknown> {
  return {
    [Symbol.asyncIterator]() {
      const it = source[Symbol.asyncIterator]()
      return {
        async next() {
          const r = await it.next()
          if (!r.done && !(r.value instanceof Uint8Array) && !(r.value instanceof EncodedFrame)) {
            try {
              validate(nsid, r.value)
            } catch (err) {
              throw new InternalServerError(`Invalid message of ${nsid}: ${String(err)}`, undefined, {
                cause: err,
              })
            }
          }
          return r
        },
        return: (value?: unknown) => it.return?.(value) ?? Promise.resolve({ done: true as const, value }),
      }
    },
  }
}
