/**
 * Host-based well-known documents for Next.js `proxy.ts` (Next 16; `middleware.ts` with
 * `runtime: 'nodejs'` on 15): `/.well-known/atproto-did` and `/.well-known/did.json` are answered by the
 * `Host` the client asked for, which a route handler reached through a rewrite no longer sees.
 *
 * The lookups behind them are cached in-process by the PDS (`handleHostCache`, 60 s by default), so
 * the proxy answers most requests without a database round trip. Trade-off: with several replicas, a
 * handle registered or revoked on one is seen by the others after at most the TTL.
 */
import type { FetchHandler } from './handler.js'

/** Options of {@link atprotoWellKnown}. */
export interface WellKnownOptions {
  /**
   * Take the host from `X-Forwarded-Host` (set it only behind a proxy that overwrites the header,
   * otherwise any client could ask for another host's answer).
   */
  trustForwardedHost?: boolean
}

const PATHS = new Set(['/.well-known/atproto-did', '/.well-known/did.json'])

/**
 * A proxy step: the atproto answer for the well-known paths, `undefined` for every other request.
 * ```ts
 * // proxy.ts
 * const wellKnown = atprotoWellKnown(atproto)
 * export async function proxy(request: NextRequest) {
 *   return (await wellKnown(request)) ?? NextResponse.next()
 * }
 * export const config = { matcher: ['/.well-known/:path*'] }
 * ```
 */
export function atprotoWellKnown(
  app: FetchHandler,
  opts: WellKnownOptions = {},
): (request: Request) => Promise<Response | undefined> {
  return async (request) => {
    const url = new URL(request.url)
    if (!PATHS.has(url.pathname) || (request.method !== 'GET' && request.method !== 'HEAD')) return undefined
    const forwarded = opts.trustForwardedHost
      ? request.headers.get('x-forwarded-host')?.split(',')[0]?.trim()
      : undefined
    const host = forwarded || request.headers.get('host') || url.host
    let target: URL
    try {
      target = new URL(url.pathname, `${url.protocol}//${host}`)
    } catch {
      return new Response('bad Host\n', { status: 400 })
    }
    return app.fetch(new Request(target, { method: request.method, headers: request.headers }))
  }
}
