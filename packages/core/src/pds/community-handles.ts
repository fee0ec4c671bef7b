/**
 * Community handles: the app gives handles under its domains (`alice.example.org`, or a bare
 * `example.org`) to accounts hosted here and to DIDs hosted on any other PDS, and answers
 * `/.well-known/atproto-did` by `Host` for all of them.
 *
 * Host lookups go through an in-process cache with a TTL, so a busy well-known endpoint does not cost a
 * database round trip per request. The trade-off: a change made by another process (another replica)
 * is seen after at most `ttlMs`; changes made through this process invalidate the entry at once.
 * Resolvers cache handles for far longer anyway (minutes to hours), so a short TTL changes little.
 */
import type { RouteHandler } from '../atproto.js'
import { ids } from '../lexicons/nsid.js'
import { HandleTakenError, UniqueConstraintError } from '../storage/errors.js'
import type { CommunityHandleRow, CommunityHandleStore } from '../storage/types.js'
import type { XrpcServer } from '../xrpc/server.js'
import { InvalidRequestError, MethodNotImplementedError } from '../xrpc/xrpc-error.js'
import type { PdsContext } from './context.js'
import { currentDidDocument, verifyServiceAuthIssuer } from './did-web.js'

/** NSIDs of the community-handle procedures (the project's namespace). */
export const COMMUNITY_HANDLE_NSIDS = {
  register: ids.DevNextatprotoCommunityRegisterHandle,
  revoke: ids.DevNextatprotoCommunityRevokeHandle,
} as const

/** Options of {@link HandleHostCache}. */
export interface HandleHostCacheOptions {
  /** How long a DID answer is reused, in ms (default 60 s). */
  ttlMs?: number
  /** How long a "no such handle" answer is reused, in ms (default 5 s: sign-ups elsewhere show soon). */
  negativeTtlMs?: number
  /** Most hosts remembered (default 10,000); the oldest entries go first. */
  maxEntries?: number
  now?: () => number
}

/** A TTL cache of host → DID (or null: no such handle) in front of a lookup. */
export class HandleHostCache {
  readonly #entries = new Map<string, { did: string | null; expiresAt: number }>()
  readonly #inflight = new Map<string, Promise<string | null>>()
  readonly #ttl: number
  readonly #negativeTtl: number
  readonly #max: number
  readonly #now: () => number

  constructor(
    private readonly lookup: (host: string) => Promise<string | null>,
    opts: HandleHostCacheOptions = {},
  ) {
    this.#ttl = opts.ttlMs ?? 60_000
    this.#negativeTtl = opts.negativeTtlMs ?? Math.min(5_000, this.#ttl)
    this.#max = opts.maxEntries ?? 10_000
    this.#now = opts.now ?? Date.now
  }

  /** The DID whose handle `host` is, or null. Concurrent misses share one lookup. */
  async get(host: string): Promise<string | null> {
    const key = host.toLowerCase()
    const hit = this.#entries.get(key)
    if (hit && hit.expiresAt > this.#now()) return hit.did
    let pending = this.#inflight.get(key)
    if (!pending) {
      pending = this.lookup(key).finally(() => this.#inflight.delete(key))
      this.#inflight.set(key, pending)
    }
    const did = await pending
    if (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value!)
    this.#entries.set(key, { did, expiresAt: this.#now() + (did ? this.#ttl : this.#negativeTtl) })
    return did
  }

  /** Forget a host (after a change made in this process). */
  invalidate(host: string): void {
    this.#entries.delete(host.toLowerCase())
  }
}

const caches = new WeakMap<PdsContext, HandleHostCache>()

/** The host cache of a PDS: accounts hosted here first, then community registrations. */
export function handleHostCache(ctx: PdsContext): HandleHostCache {
  let cache = caches.get(ctx)
  if (!cache) {
    cache = new HandleHostCache((host) => lookupHandleHost(ctx, host), ctx.options.handleHostCache)
    caches.set(ctx, cache)
  }
  return cache
}

/** Uncached: the DID holding `host` as a handle under this app's domains, or null. */
export async function lookupHandleHost(ctx: PdsContext, host: string): Promise<string | null> {
  const handle = host.toLowerCase()
  if (ctx.handles.classify(handle).kind !== 'service') return null
  const account = await ctx.storage.accounts.getByHandle(handle)
  if (account) return account.status === 'deleted' || account.status === 'takendown' ? null : account.did
  const row = await ctx.storage.communityHandles?.get(handle)
  return row?.did ?? null
}

/**
 * `GET /.well-known/atproto-did`, by `Host` (the port, if any, is ignored: handles have none): the DID
 * as text/plain, or 404.
 */
export function atprotoDidRoute(ctx: PdsContext): RouteHandler {
  const cache = handleHostCache(ctx)
  return async (request) => {
    const did = await cache.get(new URL(request.url).hostname)
    if (!did) return new Response('no atproto handle here\n', { status: 404, headers: TEXT })
    return new Response(`${did}\n`, { headers: { ...TEXT, 'cache-control': 'public, max-age=60' } })
  }
}
const TEXT = { 'content-type': 'text/plain; charset=utf-8' }

function store(ctx: PdsContext): CommunityHandleStore {
  const s = ctx.storage.communityHandles
  if (!s) throw new MethodNotImplementedError(`Storage adapter ${ctx.storage.id} has no community handles`)
  return s
}

/**
 * Register a community handle for a DID hosted on any PDS (server-side API of the host app; the XRPC
 * procedure calls it after checking the member's proof). The handle must pass the app's naming rules
 * (domains, reserved names, lengths) and be free; the DID must resolve.
 * @throws {InvalidRequestError} `InvalidHandle`, `HandleNotAvailable`, `InvalidRequest`
 */
export async function registerCommunityHandle(
  ctx: PdsContext,
  input: { handle: string; did: string },
): Promise<CommunityHandleRow> {
  const { handle, kind } = ctx.handles.check(input.handle)
  if (kind !== 'service') {
    throw new InvalidRequestError(
      `Not a handle under this community's domains: ${handle}`,
      'UnsupportedDomain',
    )
  }
  if (await ctx.storage.accounts.getByHandle(handle)) {
    throw new InvalidRequestError(`Handle already taken: ${handle}`, 'HandleNotAvailable')
  }
  const perDid = ctx.options.communityHandles?.perDid ?? 3
  if ((await store(ctx).listForDid(input.did)).length >= perDid) {
    throw new InvalidRequestError(`At most ${perDid} community handles per DID`, 'HandleNotAvailable')
  }
  await currentDidDocument(ctx, input.did) // a DID that does not resolve cannot be given a handle
  try {
    await store(ctx).create({ handle, did: input.did })
  } catch (err) {
    if (err instanceof HandleTakenError || err instanceof UniqueConstraintError) {
      throw new InvalidRequestError(`Handle already taken: ${handle}`, 'HandleNotAvailable')
    }
    throw err
  }
  handleHostCache(ctx).invalidate(handle)
  return (await store(ctx).get(handle))!
}

/** Revoke a community handle (server-side API: the community's decision). False when none was held. */
export async function revokeCommunityHandle(ctx: PdsContext, handle: string): Promise<boolean> {
  const h = handle.toLowerCase()
  const removed = await store(ctx).delete(h)
  handleHostCache(ctx).invalidate(h)
  return removed
}

function handleOf(input: { body: unknown } | undefined): string {
  const handle = (input?.body as { handle?: unknown } | undefined)?.handle
  if (typeof handle !== 'string') throw new InvalidRequestError('Input/handle must be a string')
  return handle
}

/**
 * Register the member-facing procedures: `registerHandle` and `revokeHandle`, each authorized by a
 * service-auth JWT from the member's DID (`getServiceAuth` on their own PDS with `aud` = this PDS's DID
 * and `lxm` = the procedure).
 */
export function registerCommunityHandleMethods(xrpc: XrpcServer, ctx: PdsContext): void {
  if (ctx.options.communityHandles?.selfService === false) return
  xrpc.procedure(COMMUNITY_HANDLE_NSIDS.register, {
    input: { encoding: 'application/json' },
    async handler(hc) {
      const handle = handleOf(hc.input as { body: unknown })
      const did = await verifyServiceAuthIssuer(ctx, hc)
      const row = await registerCommunityHandle(ctx, { handle, did })
      return { encoding: 'application/json', body: { handle: row.handle, did: row.did } }
    },
  })
  xrpc.procedure(COMMUNITY_HANDLE_NSIDS.revoke, {
    input: { encoding: 'application/json' },
    async handler(hc) {
      const handle = handleOf(hc.input as { body: unknown }).toLowerCase()
      const did = await verifyServiceAuthIssuer(ctx, hc)
      const row = await store(ctx).get(handle)
      if (!row || row.did !== did)
        throw new InvalidRequestError('No such handle for this DID', 'HandleNotFound')
      await revokeCommunityHandle(ctx, handle)
      return undefined
    },
  })
}

/** A handle registered for another DID cannot be taken by an account here. @throws {InvalidRequestError} */
export async function assertNotCommunityHandleOfOther(
  ctx: PdsContext,
  handle: string,
  did?: string,
): Promise<void> {
  const row = await ctx.storage.communityHandles?.get(handle)
  if (row && row.did !== did) {
    throw new InvalidRequestError(`Handle already taken: ${handle}`, 'HandleNotAvailable')
  }
}
