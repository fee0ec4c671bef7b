import { type IdentityCache, MemoryIdentityCache, SwrCache, type SwrOptions } from './cache.js'
import { type AtprotoData, type DidDocument, getAtprotoData, parseDidDocument } from './did-document.js'
import {
  DidNotFoundError,
  IdentityResolutionError,
  InvalidDidDocumentError,
  PoorlyFormattedDidError,
  UnsupportedDidMethodError,
} from './errors.js'
import { type ResolvedAddress, type SafeFetchOptions, safeFetch } from './safe-fetch.js'
import { SafeFetchError } from './safe-fetch-errors.js'
import { isValidDid, isValidHandle } from './syntax.js'

/** Network options shared by the identity resolvers. */
export interface ResolverNetworkOptions {
  /** Per-request timeout in ms (default 3 s, like the reference). */
  timeoutMs?: number
  /** Permit loopback hosts (tests and local development only). */
  allowLoopback?: boolean
  /** Permit http (did:web `localhost` and well-known handles; tests and local development only). */
  allowHttp?: boolean
  /** DNS lookup used to vet hostnames (default `dns.lookup`); lets tests map names to loopback. */
  lookup?: (hostname: string) => Promise<ResolvedAddress[]>
}

/** Options of {@link DidResolver}. */
export interface DidResolverOptions extends ResolverNetworkOptions, SwrOptions {
  /** PLC directory URL (default https://plc.directory). Operator-configured, so fetched without SSRF checks. */
  plcUrl?: string
  /** fetch used for the PLC directory only (default the global one); did:web always goes through safeFetch. */
  plcFetch?: typeof fetch
  cache?: IdentityCache
  /** Largest accepted DID document in bytes (default 64 KiB). */
  maxDocBytes?: number
}

/** Resolves did:plc and did:web DIDs to validated DID documents, with stale-while-revalidate caching. */
export class DidResolver {
  readonly plcUrl: string
  private readonly swr: SwrCache
  private readonly timeoutMs: number
  private readonly maxBytes: number

  constructor(private readonly opts: DidResolverOptions = {}) {
    this.plcUrl = (opts.plcUrl ?? 'https://plc.directory').replace(/\/+$/, '')
    this.swr = new SwrCache(opts.cache ?? new MemoryIdentityCache(), opts)
    this.timeoutMs = opts.timeoutMs ?? 3000
    this.maxBytes = opts.maxDocBytes ?? 64 * 1024
  }

  /**
   * Resolve `did` to its document (cached).
   * @throws {PoorlyFormattedDidError} {@link UnsupportedDidMethodError} {@link DidNotFoundError}
   *   {@link InvalidDidDocumentError} {@link IdentityResolutionError}
   */
  async resolve(did: string, opts: { forceRefresh?: boolean } = {}): Promise<DidDocument> {
    if (!isValidDid(did)) throw new PoorlyFormattedDidError(did)
    const load = did.startsWith('did:plc:')
      ? () => this.resolvePlc(did)
      : did.startsWith('did:web:')
        ? () => this.resolveWeb(did)
        : null
    if (!load) throw new UnsupportedDidMethodError(did)
    const doc = await this.swr.get(`did:${did}`, load, opts)
    if (!doc) throw new DidNotFoundError(did)
    return doc as DidDocument
  }

  /** Resolve and extract handle (unverified), signing key and PDS. */
  async resolveAtprotoData(did: string, opts: { forceRefresh?: boolean } = {}): Promise<AtprotoData> {
    return getAtprotoData(await this.resolve(did, opts))
  }

  private async resolvePlc(did: string): Promise<DidDocument> {
    if (!/^did:plc:[a-z2-7]{24}$/.test(did))
      throw new PoorlyFormattedDidError(did, 'not a did:plc identifier')
    let res: Response
    let text: string
    try {
      res = await (this.opts.plcFetch ?? fetch)(`${this.plcUrl}/${encodeURIComponent(did)}`, {
        redirect: 'error',
        headers: { accept: 'application/did+ld+json,application/json' },
        signal: AbortSignal.timeout(this.timeoutMs),
      })
      text = await res.text()
    } catch (err) {
      throw new IdentityResolutionError(`PLC directory unreachable for ${did}`, { cause: err })
    }
    if (res.status === 404) throw new DidNotFoundError(did)
    if (res.status === 410) throw new DidNotFoundError(did, true)
    if (!res.ok) throw new IdentityResolutionError(`PLC directory answered ${res.status} for ${did}`)
    if (text.length > this.maxBytes) throw new InvalidDidDocumentError(did, 'document too large')
    return parseDidDocument(parseJson(text, did), did)
  }

  private async resolveWeb(did: string): Promise<DidDocument> {
    const id = did.slice('did:web:'.length)
    if (id.includes(':'))
      throw new PoorlyFormattedDidError(did, 'path-based did:web is not supported by atproto')
    let host: string
    try {
      host = decodeURIComponent(id)
    } catch {
      throw new PoorlyFormattedDidError(did, 'bad percent-encoding')
    }
    const [hostname, port, ...extra] = host.split(':')
    const isLocal = hostname === 'localhost'
    // Ports are only meaningful (and only allowed) on localhost, for development.
    if (extra.length || (port !== undefined && (!isLocal || !/^\d{1,5}$/.test(port)))) {
      throw new PoorlyFormattedDidError(did, 'port only allowed on localhost')
    }
    if (!isLocal && !isValidHandle(hostname)) throw new PoorlyFormattedDidError(did, 'invalid hostname')
    const scheme = isLocal && this.opts.allowHttp ? 'http' : 'https'
    const fetchOpts: SafeFetchOptions = {
      timeoutMs: this.timeoutMs,
      maxBytes: this.maxBytes,
      maxRedirects: 0, // the reference refuses redirects for DID documents
      allowHttp: this.opts.allowHttp,
      allowLoopback: this.opts.allowLoopback,
      lookup: this.opts.lookup,
      headers: { accept: 'application/did+ld+json,application/json' },
    }
    let res: Awaited<ReturnType<typeof safeFetch>>
    try {
      res = await safeFetch(`${scheme}://${host}/.well-known/did.json`, fetchOpts)
    } catch (err) {
      if (err instanceof SafeFetchError) {
        throw new IdentityResolutionError(`Could not fetch ${did}: ${err.message}`, { cause: err })
      }
      throw err
    }
    if (res.status === 404 || res.status === 410) throw new DidNotFoundError(did, res.status === 410)
    if (!res.ok) throw new IdentityResolutionError(`${host} answered ${res.status} for ${did}`)
    return parseDidDocument(parseJson(res.text(), did), did)
  }
}

function parseJson(text: string, did: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw new InvalidDidDocumentError(did, 'not JSON')
  }
}
