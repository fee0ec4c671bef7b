/**
 * Every request of the OAuth client goes to URLs that come from users (a handle's DID document, a
 * PDS's metadata), so all of them go through {@link safeFetch}: no private or loopback targets, a time
 * budget, a size cap. This adapts it to the `fetch` signature oauth4webapi calls.
 */
import { type ResolvedAddress, safeFetch } from '../identity/safe-fetch.js'

/** Network options of the OAuth client. The loopback and http switches are for tests and development. */
export interface OAuthClientFetchOptions {
  /** Permit loopback targets (127/8, ::1, localhost). */
  allowLoopback?: boolean
  /** Permit plain http URLs (otherwise https only, as the atproto profile requires). */
  allowHttp?: boolean
  /** Per-request time budget in ms (default 10 s). */
  timeoutMs?: number
  /** Largest accepted response body in bytes (default 8 MiB). */
  maxBytes?: number
  /** DNS lookup used to vet hostnames (tests map names to loopback with it). */
  lookup?: (hostname: string) => Promise<ResolvedAddress[]>
  /** Extra trusted CA certificates (tests with self-signed TLS). */
  ca?: string | Buffer | Array<string | Buffer>
}

/** A `fetch` over {@link safeFetch}: GET, HEAD and POST, buffered, never following POST redirects. */
export function safeFetchHandler(opts: OAuthClientFetchOptions) {
  return async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const req = new Request(input, init)
    const method = req.method.toUpperCase()
    if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
      throw new TypeError(`OAuth client: unsupported method ${method}`)
    }
    const headers: Record<string, string> = {}
    req.headers.forEach((v, k) => {
      headers[k] = v
    })
    const body = method === 'POST' ? new Uint8Array(await req.arrayBuffer()) : undefined
    const res = await safeFetch(req.url, {
      method,
      headers,
      body,
      allowHttp: opts.allowHttp,
      allowLoopback: opts.allowLoopback,
      timeoutMs: opts.timeoutMs,
      maxBytes: opts.maxBytes ?? 8 * 1024 * 1024,
      lookup: opts.lookup,
      ca: opts.ca,
      maxRedirects: 0,
      signal: init.signal ?? undefined,
    })
    const nullBody = res.status === 204 || res.status === 304 || method === 'HEAD'
    return new Response(nullBody ? null : (res.body as Uint8Array<ArrayBuffer>), {
      status: res.status,
      headers: res.headers,
    })
  }
}
