/** CORS for XRPC: open to every origin like the reference PDS, exposing the atproto headers clients read. */

/** CORS options; `false` on the server disables CORS headers entirely. */
export interface CorsOptions {
  /** `Access-Control-Allow-Origin`; defaults to `*` (XRPC is called cross-origin by design). */
  origin?: string
  /** Preflight cache lifetime in seconds (default: one day, as the reference PDS). */
  maxAge?: number
  /** Extra headers exposed to browsers on top of the defaults. */
  exposeHeaders?: string[]
}

/** Response headers a browser client needs to read. */
export const DEFAULT_EXPOSED_HEADERS = [
  'atproto-repo-rev',
  'atproto-content-labelers',
  'atproto-accept-labelers',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
  'RateLimit-Policy',
  'Retry-After',
  'DPoP-Nonce',
  'WWW-Authenticate',
]

/** Precomputed CORS header sets (built once per server, not per request). */
export interface Cors {
  /** Add the actual-response headers. */
  apply(headers: Headers): void
  /** The 204 answer to a preflight `OPTIONS`. */
  preflight(request: Request): Response
}

/** Build the CORS helpers from options. */
export function createCors(options: CorsOptions = {}): Cors {
  const origin = options.origin ?? '*'
  const expose = [...DEFAULT_EXPOSED_HEADERS, ...(options.exposeHeaders ?? [])].join(', ')
  const maxAge = String(options.maxAge ?? 86_400)
  return {
    apply(headers) {
      headers.set('Access-Control-Allow-Origin', origin)
      headers.set('Access-Control-Expose-Headers', expose)
      if (origin !== '*') headers.append('Vary', 'Origin')
    },
    preflight(request) {
      const headers = new Headers({
        'Access-Control-Allow-Origin': origin,
        'Access-Control-Allow-Methods': 'GET,HEAD,POST',
        'Access-Control-Max-Age': maxAge,
        Vary: 'Access-Control-Request-Headers',
        'Content-Length': '0',
      })
      // Reflect requested headers (Authorization, DPoP, atproto-proxy, …) like the `cors` package does.
      const requested = request.headers.get('access-control-request-headers')
      if (requested) headers.set('Access-Control-Allow-Headers', requested)
      return new Response(null, { status: 204, headers })
    },
  }
}
