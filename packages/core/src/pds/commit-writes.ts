/**
 * A record commit with its blob bookkeeping: every referenced blob must have been uploaded by the
 * account, the commit is applied (one transaction with its `#commit` event), then referenced blobs are
 * made permanent and the references of replaced or deleted records dropped. The same steps as the
 * XRPC write endpoints (api/repo.ts), for callers without an HTTP request (the host API).
 */
import { CID } from '../data/cid.js'
import type { CommitData } from '../repo/repo.js'
import { InvalidRequestError } from '../xrpc/xrpc-error.js'
import type { PdsContext } from './context.js'
import { applyWrites, type PreparedWrite } from './repo-writer.js'

/** Commit prepared writes to the repo of `did`, blobs included. */
export async function commitWrites(
  ctx: PdsContext,
  did: string,
  writes: PreparedWrite[],
  swapCommit?: CID,
): Promise<CommitData> {
  // Every referenced blob must have been uploaded by this account (as the reference checks).
  const blobRows = new Map<string, { tempKey: string | null }>()
  for (const w of writes) {
    if (w.action === 'delete') continue
    for (const cid of w.blobs) {
      const row = await ctx.storage.blobs.get(did, cid)
      if (!row) throw new InvalidRequestError(`Could not find blob: ${cid}`, 'BlobNotFound')
      blobRows.set(cid.toString(), row)
    }
  }
  const data = await applyWrites(ctx, did, writes, swapCommit)
  for (const [cid, row] of blobRows) {
    if (row.tempKey) await ctx.blobstore.makePermanent(row.tempKey, CID.parse(cid))
  }
  for (const w of writes) {
    const uri = `at://${did}/${w.collection}/${w.rkey}`
    if (w.action !== 'create') {
      const orphaned = await ctx.storage.blobs.removeRefs(did, uri)
      const stillUsed = new Set(w.action === 'update' ? w.blobs.map(String) : [])
      const gone = orphaned.filter((c) => !stillUsed.has(c.toString()))
      // Bytes are shared by CID across accounts: a GC pass removes them once no account has them.
      if (gone.length > 0) await ctx.storage.blobs.delete(did, gone)
    }
    if (w.action !== 'delete' && w.blobs.length > 0) await ctx.storage.blobs.addRefs(did, uri, w.blobs)
  }
  return data
}
