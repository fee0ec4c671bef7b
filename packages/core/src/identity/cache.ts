/** A cached value and when it was last resolved (ms since epoch). */
export interface CachedIdentity<T = unknown> {
  value: T
  updatedAt: number
}

/**
 * Storage for identity resolution results. Keys are `did:<did>` (value: the DID document) and
 * `handle:<handle>` (value: the DID string). Values are JSON-serializable, so DB-backed
 * implementations (in `@next-atproto/adapters`) can store them as JSON. Implementations need not
 * expire entries: freshness is decided by the resolver from `updatedAt`.
 */
export interface IdentityCache {
  get(key: string): Promise<CachedIdentity | null> | CachedIdentity | null
  set(key: string, value: unknown): Promise<void> | void
  delete?(key: string): Promise<void> | void
}

/** In-memory {@link IdentityCache} with a bounded number of entries (oldest evicted first). */
export class MemoryIdentityCache implements IdentityCache {
  private readonly map = new Map<string, CachedIdentity>()
  constructor(
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}
  get(key: string): CachedIdentity | null {
    return this.map.get(key) ?? null
  }
  set(key: string, value: unknown): void {
    this.map.delete(key) // re-insert at the end: Map order is eviction order
    this.map.set(key, { value, updatedAt: this.now() })
    if (this.map.size > this.maxEntries) this.map.delete(this.map.keys().next().value!)
  }
  delete(key: string): void {
    this.map.delete(key)
  }
}

/** Freshness policy of {@link SwrCache}. */
export interface SwrOptions {
  /** Serve without revalidating while younger than this (default 1 h). */
  staleTtlMs?: number
  /** Serve stale and revalidate in the background while younger than this (default 24 h). */
  maxTtlMs?: number
  now?: () => number
}

/**
 * Stale-while-revalidate over an {@link IdentityCache}, with in-flight de-duplication:
 * concurrent lookups of one key share one resolution.
 */
export class SwrCache {
  private readonly inflight = new Map<string, Promise<unknown>>()
  private readonly staleTtl: number
  private readonly maxTtl: number
  private readonly now: () => number

  constructor(
    readonly cache: IdentityCache,
    opts: SwrOptions = {},
  ) {
    this.staleTtl = opts.staleTtlMs ?? 3_600_000
    this.maxTtl = opts.maxTtlMs ?? 86_400_000
    this.now = opts.now ?? Date.now
  }

  /** Get `key`, resolving with `load` when missing/expired (null results are not cached). */
  async get<T>(
    key: string,
    load: () => Promise<T | null>,
    opts: { forceRefresh?: boolean } = {},
  ): Promise<T | null> {
    if (!opts.forceRefresh) {
      const hit = await this.cache.get(key)
      if (hit) {
        const age = this.now() - hit.updatedAt
        if (age < this.staleTtl) return hit.value as T
        if (age < this.maxTtl) {
          // Background refresh; its failure keeps the stale value.
          this.refresh(key, load).catch(() => {})
          return hit.value as T
        }
      }
    }
    return this.refresh(key, load)
  }

  private refresh<T>(key: string, load: () => Promise<T | null>): Promise<T | null> {
    const running = this.inflight.get(key)
    if (running) return running as Promise<T | null>
    const p = (async () => {
      try {
        const value = await load()
        if (value === null) await this.cache.delete?.(key)
        else await this.cache.set(key, value)
        return value
      } finally {
        this.inflight.delete(key)
      }
    })()
    this.inflight.set(key, p)
    return p
  }
}
