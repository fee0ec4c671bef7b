/**
 * Blob garbage collection. Temporary blobs (uploaded, never referenced) older than a TTL and permanent
 * blobs no record references anymore are deleted: metadata first, then bytes.
 *
 * The race with a write that references a blob the collector is about to delete is closed by a lease:
 * the write path claims its blobs before committing (`BlobMetaStore.claim` refreshes `createdAt`), and
 * the collector deletes a row only if it is still idle past the grace period at the moment of the delete
 * (a conditional delete in storage). Either the claim comes first and the row stays, or the delete does
 * and the claim finds nothing, so the write is refused before anything is committed. The grace period
 * must exceed the time from a claim to `addRefs` (a commit: seconds).
 *
 * Bytes are stored once per CID and shared by accounts, so they go only when no account has a row for
 * the CID. Another account may upload the very same bytes while the collector works on them: blob
 * stores with `deleteUnreferenced` (disk, memory) move the objects aside before the last check of the
 * rows and put back what became referenced meanwhile, so such an upload keeps its bytes (see
 * `BlobStore.deleteUnreferenced`). With a store that only has `delete`, a window of milliseconds
 * between the check and the delete remains.
 */
import type { CID } from '../data/cid.js'
import { InvalidRequestError } from '../xrpc/xrpc-error.js'
import type { PdsContext } from './context.js'
import type { PreparedWrite } from './repo-writer.js'

/** Lease and look up every blob the writes reference; throws BlobNotFound for one the account lacks. */
export async function claimBlobs(
  ctx: PdsContext,
  did: string,
  writes: PreparedWrite[],
): Promise<Map<string, { tempKey: string | null }>> {
  const wanted = new Map<string, CID>()
  for (const w of writes)
    if (w.action !== 'delete') for (const cid of w.blobs) wanted.set(cid.toString(), cid)
  const rows = new Map<string, { tempKey: string | null }>()
  if (wanted.size === 0) return rows
  const { blobs } = ctx.storage
  const found = blobs.claim
    ? await blobs.claim(did, [...wanted.values()])
    : (await Promise.all([...wanted.values()].map((cid) => blobs.get(did, cid)))).filter((r) => r !== null)
  for (const row of found) rows.set(row.cid.toString(), row)
  for (const cid of wanted.keys()) {
    if (!rows.has(cid)) throw new InvalidRequestError(`Could not find blob: ${cid}`, 'BlobNotFound')
  }
  return rows
}

const ORPHAN_TEMP_MARGIN_MS = 24 * 3600_000

/** Options of {@link collectBlobGarbage}. */
export interface BlobGcOptions {
  /** Age after which a never-referenced upload is deleted (ms); at least `graceMs` is used. */
  tempTtlMs: number
  /** Idle time after which a permanent blob no record references is deleted (ms); the claim lease. */
  graceMs: number
  /** Rows per storage call; default 500. */
  batchSize?: number
  now?: Date
}

/** What one collection deleted. */
export interface BlobGcResult {
  /** Metadata rows deleted (temporary and unreferenced permanent). */
  rows: number
  /** CIDs whose bytes were deleted from the blob store (no account holds them anymore). */
  bytes: number
  /** Abandoned temporary objects without metadata removed by the blob store's cleanup. */
  orphanTemp: number
}

/** Run one garbage collection pass to completion. A no-op for storage without `collectGarbage`. */
export async function collectBlobGarbage(ctx: PdsContext, options: BlobGcOptions): Promise<BlobGcResult> {
  const { blobs } = ctx.storage
  const result: BlobGcResult = { rows: 0, bytes: 0, orphanTemp: 0 }
  if (!blobs.collectGarbage) return result
  const now = options.now ?? new Date()
  // A claimed upload is protected for the grace period even when the TTL is shorter.
  const tempBefore = new Date(now.getTime() - Math.max(options.tempTtlMs, options.graceMs))
  const unreferencedBefore = new Date(now.getTime() - options.graceMs)
  const limit = options.batchSize ?? 500
  const unreferenced = blobs.unreferenced?.bind(blobs)
  // Objects an interrupted pass left aside are settled first (put back or deleted).
  if (ctx.blobstore.deleteUnreferenced && unreferenced)
    result.bytes += (await ctx.blobstore.deleteUnreferenced([], unreferenced)).length
  for (;;) {
    const gone = await blobs.collectGarbage({ tempBefore, unreferencedBefore, limit })
    result.rows += gone.length
    for (const row of gone) if (row.tempKey) await ctx.blobstore.deleteTemp(row.tempKey)
    // Bytes are stored once per CID for every account: delete only those no account holds anymore.
    const cids = [...new Map(gone.map((r) => [r.cid.toString(), r.cid])).values()]
    const free = unreferenced ? await unreferenced(cids) : []
    if (free.length > 0) {
      if (ctx.blobstore.deleteUnreferenced) {
        result.bytes += (await ctx.blobstore.deleteUnreferenced(free, unreferenced!)).length
      } else {
        await ctx.blobstore.delete(free)
        result.bytes += free.length
      }
    }
    if (gone.length < limit) break
  }
  // Uploads that never got a metadata row (failed mid-request) are files only the store knows about.
  // A day later than rows: a temporary file still has a row when a write claimed it just now, and a row
  // that old has been collected by an earlier pass unless collection was stopped for that long.
  result.orphanTemp = await ctx.blobstore.cleanupTemp(new Date(tempBefore.getTime() - ORPHAN_TEMP_MARGIN_MS))
  return result
}
