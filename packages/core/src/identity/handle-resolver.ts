import { resolveTxt as dnsResolveTxt } from 'node:dns/promises'
import { type IdentityCache, MemoryIdentityCache, SwrCache, type SwrOptions } from './cache.js'
import type { ResolverNetworkOptions } from './did-resolver.js'
import { InvalidHandleError } from './errors.js'
import { safeFetch } from './safe-fetch.js'
import { isResolvableHandle, isValidDid, normalizeHandle } from './syntax.js'

/** Options of {@link HandleResolver}. */
export interface HandleResolverOptions extends ResolverNetworkOptions, SwrOptions {
  /** TXT lookup (default `dns.resolveTxt`); inject a recursive resolver or a test double. */
  resolveTxt?: (name: string) => Promise<string[][]>
  /**
   * Where the HTTPS method fetches from (default `https://<handle>/.well-known/atproto-did`).
   * For development networks whose handles are served on another port.
   */
  wellKnownUrl?: (handle: string) => string
  cache?: IdentityCache
  /**
   * Told why a method gave no answer (blocked by the SSRF rules, unreachable, NXDOMAIN…): resolution
   * itself only reports "no DID", so log from here to explain a handle that does not resolve.
   */
  onError?: (err: unknown, info: { handle: string; method: 'dns' | 'http' }) => void
}

const PREFIX = 'did='

/** Resolves handles to DIDs by DNS TXT (`_atproto.<handle>`) and HTTPS well-known, in parallel. */
export class HandleResolver {
  private readonly swr: SwrCache
  private readonly resolveTxt: (name: string) => Promise<string[][]>

  constructor(private readonly opts: HandleResolverOptions = {}) {
    this.swr = new SwrCache(opts.cache ?? new MemoryIdentityCache(), opts)
    this.resolveTxt = opts.resolveTxt ?? dnsResolveTxt
  }

  /**
   * Resolve a handle to the DID it claims (unverified: check the DID document links back).
   * DNS wins when both methods answer, as the spec prefers it.
   * @returns the DID, or null when neither method yields one
   * @throws {InvalidHandleError} for invalid handles and handles that must not resolve
   */
  async resolve(handle: string, opts: { forceRefresh?: boolean } = {}): Promise<string | null> {
    const h = normalizeHandle(handle)
    if (!isResolvableHandle(h)) throw new InvalidHandleError(handle)
    return this.swr.get(`handle:${h}`, () => this.resolveUncached(h), opts)
  }

  private async resolveUncached(handle: string): Promise<string | null> {
    const abort = new AbortController()
    const http = this.resolveHttp(handle, abort.signal)
    const dns = await this.resolveDns(handle)
    if (dns) {
      abort.abort()
      return dns
    }
    return http
  }

  /** DNS TXT method: exactly one `did=` record under `_atproto.<handle>`. */
  async resolveDns(handle: string): Promise<string | null> {
    let records: string[][]
    try {
      records = await this.resolveTxt(`_atproto.${handle}`)
    } catch (err) {
      this.opts.onError?.(err, { handle, method: 'dns' })
      return null // NXDOMAIN, NODATA, timeouts: this method has no answer
    }
    const dids = records.map((chunks) => chunks.join('')).filter((r) => r.startsWith(PREFIX))
    if (dids.length !== 1) return null // none, or ambiguous
    const did = dids[0].slice(PREFIX.length)
    return isValidDid(did) ? did : null
  }

  /** HTTPS method: the first line of `/.well-known/atproto-did`, trimmed. */
  async resolveHttp(handle: string, signal?: AbortSignal): Promise<string | null> {
    const url = this.opts.wellKnownUrl?.(handle) ?? `https://${handle}/.well-known/atproto-did`
    try {
      const res = await safeFetch(url, {
        signal,
        timeoutMs: this.opts.timeoutMs ?? 3000,
        maxBytes: 4096,
        allowHttp: this.opts.allowHttp,
        allowLoopback: this.opts.allowLoopback,
        lookup: this.opts.lookup,
        headers: { accept: 'text/plain' },
      })
      if (!res.ok) return null
      const did = res.text().split('\n')[0].trim()
      return isValidDid(did) ? did : null
    } catch (err) {
      if (!signal?.aborted) this.opts.onError?.(err, { handle, method: 'http' })
      return null // blocked, unreachable, too large, aborted: no answer from this method
    }
  }
}
