/**
 * `next-atproto/proxy`: helpers for a Next.js `proxy.ts` (Next 16; `middleware.ts` before) that need no
 * database: they run before routing, on the request alone.
 *
 * ```ts
 * // proxy.ts
 * import { atprotoProxy } from 'next-atproto/proxy'
 * const atproto = atprotoProxy()
 * export function proxy(request: Request) {
 *   return atproto(request) // undefined: carry on to the app's routes
 * }
 * // Only preflights: a proxy that covers a route truncates request bodies over 10 MB (blobs, CARs).
 * export const config = {
 *   matcher: [{ source: '/xrpc/:path*', has: [{ type: 'header', key: 'access-control-request-method' }] }],
 * }
 * ```
 * @module
 */
import { type CorsOptions, createCors } from '@next-atproto/core'

/** Options of {@link atprotoProxy}. */
export interface AtprotoProxyOptions {
  /** CORS settings, as the XRPC server's (`createAtproto({ xrpc: { cors } })`); keep them the same. */
  cors?: CorsOptions
  /** Path prefixes whose preflights are answered here (default `/xrpc/`). */
  paths?: string[]
}

/** A proxy step: a `Response` to send now, or `undefined` to let the request through. */
export type ProxyStep = (request: Request) => Response | undefined

/**
 * Answer CORS preflights (`OPTIONS` with `Access-Control-Request-Method`) under the atproto paths with
 * the headers the XRPC server would send (any origin, the atproto and rate-limit headers exposed,
 * requested headers such as `Authorization`, `DPoP` and `atproto-proxy` allowed), without loading a
 * route or touching the database. Everything else passes through untouched.
 */
export function atprotoProxy(options: AtprotoProxyOptions = {}): ProxyStep {
  const cors = createCors(options.cors)
  const paths = options.paths ?? ['/xrpc/']
  return (request) => {
    if (request.method !== 'OPTIONS' || !request.headers.has('access-control-request-method'))
      return undefined
    const { pathname } = new URL(request.url)
    if (!paths.some((prefix) => pathname.startsWith(prefix))) return undefined
    return cors.preflight(request)
  }
}
