import { lookup as dnsLookup } from 'node:dns/promises'
import http from 'node:http'
import https from 'node:https'
import { isIP, type LookupFunction } from 'node:net'
import { classifyAddress } from './ip-ranges.js'
import {
  FetchNetworkError,
  FetchTimeoutError,
  ResponseTooLargeError,
  SafeFetchError,
  SsrfBlockedError,
  TooManyRedirectsError,
} from './safe-fetch-errors.js'

/** A resolved address, as returned by `dns.lookup(host, { all: true })`. */
export interface ResolvedAddress {
  address: string
  family: number
}

/** Options of {@link safeFetch}. */
export interface SafeFetchOptions {
  method?: 'GET' | 'HEAD' | 'POST'
  headers?: Record<string, string>
  body?: string | Uint8Array
  /** Permit loopback targets (127/8, ::1, `localhost`). For tests and local development only. */
  allowLoopback?: boolean
  /** Permit plain `http:` URLs. For tests and local development only. */
  allowHttp?: boolean
  /** Total time budget for every hop and the body, in ms (default 10 s). */
  timeoutMs?: number
  /** Largest accepted body, in bytes (default 1 MiB). */
  maxBytes?: number
  /** Redirects followed for GET/HEAD (default 3); other methods never follow. */
  maxRedirects?: number
  signal?: AbortSignal
  /** Resolver used to vet hostnames (default `dns.lookup` with `all: true`). */
  lookup?: (hostname: string) => Promise<ResolvedAddress[]>
  /** Extra trusted CA certificates (tests with a self-signed loopback TLS server). */
  ca?: string | Buffer | Array<string | Buffer>
}

/** A fully buffered response from {@link safeFetch}. */
export class SafeResponse {
  constructor(
    readonly status: number,
    readonly headers: Headers,
    /** The final URL, after redirects. */
    readonly url: string,
    readonly body: Uint8Array,
  ) {}
  get ok(): boolean {
    return this.status >= 200 && this.status < 300
  }
  text(): string {
    return new TextDecoder().decode(this.body)
  }
  json(): unknown {
    return JSON.parse(this.text())
  }
}

const DEFAULT_TIMEOUT = 10_000
const DEFAULT_MAX_BYTES = 1024 * 1024
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])

const defaultLookup = (hostname: string): Promise<ResolvedAddress[]> =>
  dnsLookup(hostname, { all: true, verbatim: true })

/** Strip the brackets WHATWG URL keeps around IPv6 literals. */
const bareHost = (url: URL): string =>
  url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname

function assertAllowedAddress(address: string, url: URL, opts: SafeFetchOptions): void {
  const cls = classifyAddress(address)
  if (cls === 'public' || (cls === 'loopback' && opts.allowLoopback)) return
  throw new SsrfBlockedError(`Refusing to fetch ${url.host}: ${address} is a ${cls} address`, url.href)
}

/** Check the URL and resolve its hostname to an address that may be contacted. */
async function vetTarget(url: URL, opts: SafeFetchOptions): Promise<ResolvedAddress> {
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && opts.allowHttp)) {
    throw new SsrfBlockedError(`Refusing ${url.protocol} URL (https required)`, url.href)
  }
  if (url.username || url.password) {
    throw new SsrfBlockedError('Refusing URL with credentials', url.href)
  }
  const host = bareHost(url)
  const version = isIP(host)
  if (version !== 0) {
    assertAllowedAddress(host, url, opts)
    return { address: host, family: version }
  }
  if (!host.includes('.') && host !== 'localhost') {
    throw new SsrfBlockedError(`Refusing single-label hostname ${host}`, url.href)
  }
  let addresses: ResolvedAddress[]
  try {
    addresses = await (opts.lookup ?? defaultLookup)(host)
  } catch (err) {
    throw new FetchNetworkError(`Could not resolve ${host}`, url.href, { cause: err })
  }
  if (addresses.length === 0) throw new FetchNetworkError(`No address for ${host}`, url.href)
  // Every address must pass: a mixed answer would let the OS pick the private one.
  for (const a of addresses) assertAllowedAddress(a.address, url, opts)
  return addresses[0]
}

interface RawResponse {
  status: number
  headers: http.IncomingHttpHeaders
  stream: http.IncomingMessage
}

function request(
  url: URL,
  target: ResolvedAddress,
  opts: SafeFetchOptions,
  signal: AbortSignal,
): Promise<RawResponse> {
  // The connection goes to the vetted address only: no second DNS answer can swap it (rebinding).
  const pinned: LookupFunction = (_host, options, cb) => {
    if (typeof options === 'object' && options?.all) {
      ;(cb as any)(null, [{ address: target.address, family: target.family }])
    } else cb(null, target.address, target.family)
  }
  const headers: Record<string, string> = { 'user-agent': 'next-atproto', ...opts.headers }
  const body = opts.body === undefined ? undefined : opts.body
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body))
  const mod = url.protocol === 'https:' ? https : http
  return new Promise((resolve, reject) => {
    const req = mod.request(url, {
      method: opts.method ?? 'GET',
      headers,
      lookup: pinned,
      signal,
      ca: opts.ca,
      agent: false,
      servername: isIP(bareHost(url)) ? undefined : bareHost(url),
    })
    req.on('response', (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, stream: res }))
    req.on('error', reject)
    req.end(body)
  })
}

async function readBody(res: RawResponse, url: URL, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(res.headers['content-length'])
  if (Number.isFinite(declared) && declared > maxBytes) {
    res.stream.destroy()
    throw new ResponseTooLargeError(`Response declares ${declared} bytes (limit ${maxBytes})`, url.href)
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of res.stream as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > maxBytes) {
      res.stream.destroy()
      throw new ResponseTooLargeError(`Response exceeds ${maxBytes} bytes`, url.href)
    }
    chunks.push(chunk)
  }
  const out = Buffer.concat(chunks, size)
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
}

function toHeaders(raw: http.IncomingHttpHeaders): Headers {
  const h = new Headers()
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined) continue
    if (Array.isArray(v)) for (const x of v) h.append(k, x)
    else h.set(k, v)
  }
  return h
}

/**
 * Fetch a user-supplied URL without letting it reach internal networks (SSRF).
 *
 * https only (unless `allowHttp`); the hostname is resolved once and every address must be public
 * (no private, loopback, link-local, unique-local, CGNAT, multicast, unspecified or IPv4-mapped
 * forms of those); the socket is pinned to the vetted address; redirects are followed by hand and
 * re-vetted at each hop; one deadline covers the whole exchange and the body is capped while streaming.
 *
 * @throws {SsrfBlockedError} {@link FetchTimeoutError} {@link ResponseTooLargeError}
 *   {@link TooManyRedirectsError} {@link FetchNetworkError}
 */
export async function safeFetch(input: string | URL, opts: SafeFetchOptions = {}): Promise<SafeResponse> {
  let url: URL
  try {
    url = new URL(input)
  } catch (err) {
    throw new SsrfBlockedError('Invalid URL', String(input), { cause: err })
  }
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES
  const method = opts.method ?? 'GET'
  const maxRedirects = method === 'POST' ? 0 : (opts.maxRedirects ?? 3)
  const deadline = new AbortController()
  const timer = setTimeout(() => deadline.abort(), timeoutMs)
  const signal = opts.signal ? AbortSignal.any([deadline.signal, opts.signal]) : deadline.signal
  try {
    for (let hop = 0; ; hop++) {
      const target = await vetTarget(url, opts)
      if (signal.aborted) throw signal.reason
      const res = await request(url, target, opts, signal)
      const location = res.headers.location
      if (REDIRECT_STATUSES.has(res.status) && maxRedirects > 0) {
        res.stream.destroy()
        if (hop >= maxRedirects)
          throw new TooManyRedirectsError(`More than ${maxRedirects} redirects`, url.href)
        if (!location) throw new TooManyRedirectsError('Redirect without Location', url.href)
        url = new URL(location, url)
        continue
      }
      const body = method === 'HEAD' ? new Uint8Array(0) : await readBody(res, url, maxBytes)
      return new SafeResponse(res.status, toHeaders(res.headers), url.href, body)
    }
  } catch (err) {
    if (err instanceof SafeFetchError) throw err
    if (deadline.signal.aborted) {
      throw new FetchTimeoutError(`Fetch did not complete within ${timeoutMs} ms`, url.href, { cause: err })
    }
    throw new FetchNetworkError(`Fetch failed: ${(err as Error)?.message ?? err}`, url.href, { cause: err })
  } finally {
    clearTimeout(timer)
  }
}
