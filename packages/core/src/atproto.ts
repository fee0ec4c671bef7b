import { VERSION } from './version.js'

/** Options of {@link createAtproto}. */
export interface AtprotoOptions {
  /** Public origin of the app, e.g. `https://forum.example`; used in service metadata. */
  publicUrl?: string
  /** Version string reported by `/xrpc/_health` (defaults to the core package version). */
  version?: string
}

/**
 * The object a host app mounts: one fetch-style handler for every atproto path it owns, whatever the
 * framework. Framework glue (next-atproto, `@next-atproto/core/node`) only translates to and from it.
 */
export interface Atproto {
  readonly version: string
  readonly publicUrl: string | undefined
  /** Handle a request for a path this app owns (see {@link Atproto.owns}). */
  fetch(request: Request): Promise<Response>
  /** Whether a URL (path or absolute) belongs to atproto: `/xrpc/*`, `/.well-known/atproto-did`, … */
  owns(url: string): boolean
  /** Start background work (firehose wake-ups, crawler notifications). Idempotent. */
  start(): Promise<void>
  /** Stop background work and release resources. */
  close(): Promise<void>
}

const OWNED_PREFIXES = ['/xrpc/']

function pathOf(url: string): string {
  const start = url.indexOf('://') === -1 ? 0 : url.indexOf('/', url.indexOf('://') + 3)
  if (start === -1) return '/'
  const end = url.slice(start).search(/[?#]/)
  return end === -1 ? url.slice(start) : url.slice(start, start + end)
}

/** Create the atproto app object from options. */
export function createAtproto(options: AtprotoOptions = {}): Atproto {
  const version = options.version ?? VERSION
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json; charset=utf-8' },
    })

  return {
    version,
    publicUrl: options.publicUrl,
    async fetch(request) {
      const path = pathOf(request.url)
      if (path === '/xrpc/_health') return json(200, { version })
      return json(501, { error: 'MethodNotImplemented', message: `Method not implemented: ${path.slice(6)}` })
    },
    owns(url) {
      const path = pathOf(url)
      return OWNED_PREFIXES.some((p) => path.startsWith(p))
    },
    async start() {},
    async close() {},
  }
}
