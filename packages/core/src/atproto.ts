import { builtinLexicons } from './lexicon/builtin.js'
import type { Lexicons } from './lexicon/lexicons.js'
import { lexiconValidator } from './lexicon/xrpc-validator.js'
import { VERSION } from './version.js'
import { pathOf } from './xrpc/nsid-path.js'
import { XrpcServer, type XrpcServerOptions } from './xrpc/server.js'
import type { ConnectionInfo } from './xrpc/types.js'
import type { SubscriptionSocket } from './xrpc/websocket.js'

/** A non-XRPC route (well-known documents, OAuth endpoints, the PLC directory). */
export type RouteHandler = (request: Request, connection: ConnectionInfo) => Promise<Response> | Response

/** What a service sees while it sets itself up. */
export interface ServiceContext {
  /** The app's XRPC server: register queries, procedures and subscriptions on it. */
  readonly xrpc: XrpcServer
  /** Public origin of the app (no trailing slash), e.g. `https://forum.example`. */
  readonly publicUrl: string
  /** The app's lexicons: XRPC params and inputs, and records written, are validated against them. */
  readonly lexicons: Lexicons
  /**
   * Serve a non-XRPC path: an exact path (`/.well-known/atproto-did`) or, ending in `/*`, every path
   * under a prefix (`/plc/*`). First registration wins.
   */
  route(path: string, handler: RouteHandler): void
}

/**
 * A capability plugged into the app (PDS, OAuth server, PLC directory, AppView…): plugin-as-data, in
 * the spirit of better-auth plugins. Setup registers routes; start/close own background work.
 */
export interface AtprotoService {
  readonly name: string
  setup(ctx: ServiceContext): void | Promise<void>
  start?(): Promise<void>
  close?(): Promise<void>
}

/** Options of {@link createAtproto}. */
export interface AtprotoOptions {
  /** Public origin of the app, e.g. `https://forum.example` (default `http://localhost:3000`). */
  publicUrl?: string
  /** The services this app runs, in order. */
  services?: AtprotoService[]
  /** Options of the XRPC server (limits, CORS, rate limit, proxying). */
  xrpc?: XrpcServerOptions
  /**
   * Lexicons the app validates against (default: the shipped set, {@link builtinLexicons}). To add
   * your own: `new Lexicons([...lexiconDocs, ...yours])`.
   */
  lexicons?: Lexicons
  /** Also validate JSON outputs against their lexicon (a mismatch is a 500): for tests and development. */
  validateOutput?: boolean
  /** Version string reported by `/xrpc/_health` (defaults to the core package version). */
  version?: string
}

/**
 * The object a host app mounts: one fetch-style handler for every atproto path it owns, whatever the
 * framework. Framework glue (next-atproto, `@next-atproto/core/node`) only translates to and from it.
 */
export interface Atproto {
  readonly version: string
  readonly publicUrl: string
  readonly xrpc: XrpcServer
  /** Resolves once every service is set up; `fetch` waits for it, so awaiting it is optional. */
  readonly ready: Promise<void>
  /** Handle a request for a path this app owns (see {@link Atproto.owns}); never rejects. */
  fetch(request: Request, connection?: ConnectionInfo): Promise<Response>
  /** Whether a URL (path or absolute) belongs to atproto: `/xrpc/*` and every route of a service. */
  owns(url: string): boolean
  /** Whether a URL is a subscription endpoint (WebSocket upgrade). */
  isSubscription(url: string): boolean
  /** Serve a subscription over an accepted WebSocket (used by the WebSocket adapters). */
  handleSubscription(request: Request, socket: SubscriptionSocket, connection?: ConnectionInfo): Promise<void>
  /** Start background work of every service (firehose wake-ups, crawler notifications). Idempotent. */
  start(): Promise<void>
  /** Stop background work and release resources. Idempotent. */
  close(): Promise<void>
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  })

/** Create the atproto app object from options. */
export function createAtproto(options: AtprotoOptions = {}): Atproto {
  const version = options.version ?? VERSION
  const publicUrl = (options.publicUrl ?? 'http://localhost:3000').replace(/\/+$/, '')
  const services = options.services ?? []
  const lexicons = options.lexicons ?? builtinLexicons()
  const xrpc = new XrpcServer({
    ...options.xrpc,
    validator:
      options.xrpc?.validator ?? lexiconValidator(lexicons, { validateOutput: options.validateOutput }),
  })
  const exact = new Map<string, RouteHandler>()
  const prefixes: Array<[string, RouteHandler]> = []

  xrpc.route('GET', '/xrpc/_health', () => json(200, { version }))

  const ctx: ServiceContext = {
    xrpc,
    publicUrl,
    lexicons,
    route(path, handler) {
      if (path.endsWith('/*')) prefixes.push([path.slice(0, -1), handler])
      else if (!exact.has(path)) exact.set(path, handler)
    },
  }
  const ready = (async () => {
    for (const service of services) await service.setup(ctx)
  })()
  // Surface setup failures through fetch/start, not as an unhandled rejection at import time.
  ready.catch(() => {})

  const routeFor = (path: string): RouteHandler | undefined =>
    exact.get(path) ?? prefixes.find(([prefix]) => path.startsWith(prefix))?.[1]

  let started: Promise<void> | undefined
  let closed: Promise<void> | undefined

  return {
    version,
    publicUrl,
    xrpc,
    ready,
    async fetch(request, connection = {}) {
      await ready
      const path = pathOf(request.url)
      if (path.startsWith('/xrpc/')) return xrpc.fetch(request, connection)
      const handler = routeFor(path)
      if (!handler) return json(404, { error: 'NotFound', message: `Not found: ${path}` })
      try {
        return await handler(request, connection)
      } catch (err) {
        console.error(`atproto: unhandled error on ${path}`, err)
        return json(500, { error: 'InternalServerError', message: 'Internal Server Error' })
      }
    },
    owns(url) {
      const path = pathOf(url)
      return path.startsWith('/xrpc/') || routeFor(path) !== undefined
    },
    isSubscription: (url) => xrpc.isSubscription(url),
    handleSubscription: (request, socket, connection) => xrpc.handleSubscription(request, socket, connection),
    start() {
      started ??= (async () => {
        await ready
        for (const service of services) await service.start?.()
      })()
      return started
    },
    close() {
      closed ??= (async () => {
        await started?.catch(() => {})
        for (const service of [...services].reverse()) await service.close?.()
      })()
      return closed
    },
  }
}
