// proxy.ts
// Answered here, before routing: CORS preflights of the XRPC API (no route module, no database), and
// /.well-known/atproto-did and /.well-known/did.json by the client's Host, so handles and did:web on the
// forum's domains resolve (host lookups are cached in-process: no database round trip while cached).
import { atprotoWellKnown } from 'next-atproto'
import { atprotoProxy } from 'next-atproto/proxy'
import { atproto } from '@/lib/atproto'

const preflight = atprotoProxy()
const wellKnown = atprotoWellKnown(atproto) // { trustForwardedHost: true } behind a proxy that sets it

export async function proxy(request: Request): Promise<Response | undefined> {
  return preflight(request) ?? (await wellKnown(request))
}

// Only preflights and the two identity paths reach the proxy: a proxy that covers a route truncates
// request bodies over 10 MB.
export const config = {
  matcher: [
    { source: '/xrpc/:path*', has: [{ type: 'header', key: 'access-control-request-method' }] },
    '/.well-known/atproto-did',
    '/.well-known/did.json',
  ],
}
