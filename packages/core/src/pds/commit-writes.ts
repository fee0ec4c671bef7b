/**
 * A record commit with its blob bookkeeping: every referenced blob must have been uploaded by the
 * account, the commit is applied (one transaction with its `#commit` event), then referenced blobs are
 * made permanent and the references of replaced or deleted records dropped. The same steps as the
 * XRPC write endpoints (api/repo.ts), for callers without an HTTP request (the host API).
 */
import { CID } from '../data/cid.js'
import type { CommitData } from '../repo/repo.js'
import type { AccountRow } from '../storage/types.js'
import { claimBlobs } from './blob-gc.js'
import type { PdsContext } from './context.js'
import { applyWrites, type PreparedWrite } from './repo-writer.js'

/** Commit prepared writes to the repo of `did`, blobs included. */
export async function commitWrites(
  ctx: PdsContext,
  did: string,
  writes: PreparedWrite[],
  swapCommit?: CID,
  /** The account, when the caller already read it in this request (saves a lookup). */
  account?: AccountRow,
): Promise<CommitData> {
  // Every referenced blob must have been uploaded by this account (as the reference checks). Claiming
  // leases them, so blob garbage collection cannot take them before addRefs below (blob-gc.ts).
  const blobRows = await claimBlobs(ctx, did, writes)
  const data = await applyWrites(ctx, did, writes, swapCommit, account)
  for (const [cid, row] of blobRows) {
    if (row.tempKey) await ctx.blobstore.makePermanent(row.tempKey, CID.parse(cid))
  }
  for (const w of writes) {
    const uri = `at://${did}/${w.collection}/${w.rkey}`
    if (w.action !== 'create') {
      const orphaned = await ctx.storage.blobs.removeRefs(did, uri)
      const stillUsed = new Set(w.action === 'update' ? w.blobs.map(String) : [])
      const gone = orphaned.filter((c) => !stillUsed.has(c.toString()))
      // With collectGarbage, the blob GC job deletes unreferenced blobs (rows, then bytes) once their
      // lease ran out: deleting here would race a concurrent write that just claimed one. Without it,
      // the rows go now (bytes are shared by CID across accounts: a GC pass removes those).
      if (gone.length > 0 && !ctx.storage.blobs.collectGarbage) await ctx.storage.blobs.delete(did, gone)
    }
    if (w.action !== 'delete' && w.blobs.length > 0) await ctx.storage.blobs.addRefs(did, uri, w.blobs)
  }
  return data
}
