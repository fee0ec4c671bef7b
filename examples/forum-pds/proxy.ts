// proxy.ts
// CORS preflights of the XRPC API are answered here, before routing (no route module, no database).
import { atprotoProxy } from 'next-atproto/proxy'

const atproto = atprotoProxy()

export function proxy(request: Request): Response | undefined {
  return atproto(request)
}

// Only preflights reach the proxy: a proxy that covers a route truncates request bodies over 10 MB.
export const config = {
  matcher: [{ source: '/xrpc/:path*', has: [{ type: 'header', key: 'access-control-request-method' }] }],
}
