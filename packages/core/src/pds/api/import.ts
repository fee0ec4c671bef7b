/**
 * com.atproto.repo.importRepo and listMissingBlobs: bring a repository exported elsewhere (account
 * migration, restore from backup) into an account of this PDS.
 *
 * The CAR is verified structurally (one root, a commit that decodes, the canonical MST, every record
 * present and valid DAG-CBOR under a valid `collection/rkey`), not by signature: the reference does not
 * check the old host's signature either. Unlike the reference (which keeps the imported commit, signed
 * by the old key, until the next write), the imported tree gets a fresh commit by this account's DID and
 * key with a rev above both the current and the imported one, so `sync.getRepo` always verifies against
 * the account's DID document. The swap of blocks, record index and root, and the `#sync` event (sync 1.1:
 * "the repository has been reset to a new state"), commit in one storage transaction.
 */
import { decodeCbor } from '../../data/cbor.js'
import type { CID } from '../../data/cid.js'
import { ids } from '../../lexicons/nsid.js'
import { BlockMap } from '../../repo/block-map.js'
import { MemoryBlockStore } from '../../repo/block-store.js'
import { readCar } from '../../repo/car.js'
import { encodeCommit, signCommit } from '../../repo/commit.js'
import { RepoError } from '../../repo/errors.js'
import { mstBlocks } from '../../repo/export.js'
import { nextRev } from '../../repo/tid.js'
import { verifyRepo } from '../../repo/verify.js'
import { exportRepoBlocks } from '../../storage/export.js'
import { isValidNsid, isValidRecordKey } from '../../syntax/identifiers.js'
import type { XrpcServer } from '../../xrpc/server.js'
import { InvalidRequestError, XRPCError } from '../../xrpc/xrpc-error.js'
import type { PdsVerifiers } from '../auth.js'
import type { PdsContext } from '../context.js'
import { formatSyncEvent } from '../events.js'
import { paramsOf } from '../lexicon-params.js'
import { findBlobRefs } from '../records.js'
import { toSeqInsert } from '../repo-writer.js'
import { AccountSigningKey } from '../signing-key.js'
import { json } from './util.js'

/** Default largest accepted import CAR (the reference's default is 100 MB as well). */
export const DEFAULT_MAX_IMPORT_SIZE = 100 * 1024 * 1024

/** Outcome of {@link importRepo}. */
export interface ImportResult {
  /** The new commit of the account (re-signed over the imported tree). */
  cid: CID
  rev: string
  /** Number of records the repo now holds. */
  records: number
  /** Blob CIDs referenced by the imported records that this account has not uploaded yet. */
  missingBlobs: number
}

interface ImportedRecord {
  collection: string
  rkey: string
  cid: CID
  blobs: CID[]
}

/** Parse and verify an import CAR; returns the blocks to keep and the records it holds. */
async function verifyImport(source: ReadableStream<Uint8Array> | Uint8Array) {
  let car: Awaited<ReturnType<typeof readCar>>
  try {
    car = await readCar(source)
  } catch (err) {
    if (err instanceof XRPCError) throw err // 413 from the body limit
    throw new InvalidRequestError(`Invalid CAR file: ${(err as Error).message}`)
  }
  if (car.roots.length !== 1) throw new InvalidRequestError('expected one root')
  let verified: Awaited<ReturnType<typeof verifyRepo>>
  const keep = new BlockMap()
  try {
    verified = await verifyRepo(car.blocks, car.roots[0]!, { ensureLeaves: true })
    // Only what the tree reaches is kept: stray blocks of the CAR are dropped.
    for await (const b of mstBlocks(new MemoryBlockStore(car.blocks), verified.commit.data)) {
      keep.set(b.cid, b.bytes)
    }
  } catch (err) {
    if (err instanceof RepoError) throw new InvalidRequestError(`Invalid repo: ${err.message}`)
    throw err
  }
  const records: ImportedRecord[] = []
  for (const r of verified.records) {
    const slash = r.key.indexOf('/')
    const collection = r.key.slice(0, slash)
    const rkey = r.key.slice(slash + 1)
    if (slash < 0 || !isValidNsid(collection) || !isValidRecordKey(rkey)) {
      throw new InvalidRequestError(`Invalid repo: bad record path ${r.key}`)
    }
    let value: unknown
    try {
      value = decodeCbor(r.bytes!)
    } catch {
      throw new InvalidRequestError(`Invalid repo: record ${r.key} is not DAG-CBOR`)
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new InvalidRequestError(`Invalid repo: record ${r.key} is not an object`)
    }
    records.push({ collection, rkey, cid: r.cid, blobs: findBlobRefs(value) })
  }
  return { commit: verified.commit, keep, records }
}

/**
 * Replace the repo of `did` with the repository in `source` (a CAR stream): verified, re-signed by the
 * account's key, swapped in atomically with a `#sync` event. Blobs the records reference become
 * "missing" (listMissingBlobs) until uploaded. Throws 400 `InvalidRequest` naming what is wrong.
 */
export async function importRepo(
  ctx: PdsContext,
  did: string,
  source: ReadableStream<Uint8Array> | Uint8Array,
): Promise<ImportResult> {
  const account = await ctx.storage.accounts.getByDid(did)
  if (!account) throw new InvalidRequestError(`Could not find repo: ${did}`, 'RepoNotFound')
  const signer = AccountSigningKey.fromBytes(account.signingKey)
  const { commit: imported, keep, records } = await verifyImport(source)

  const { cid, rev, oldUris } = await ctx.storage.repo.transact(did, async (tx) => {
    const root = await tx.getRoot()
    const current = root?.rev && root.rev > imported.rev ? root.rev : imported.rev
    const rev = nextRev(current)
    const commit = await signCommit({ did, version: 3, data: imported.data, rev, prev: null }, signer)
    const encoded = encodeCommit(commit)
    const next = new BlockMap().addMap(keep).set(encoded.cid, encoded.bytes)

    // Blocks the new version does not reach go (collected first: the export pages over live rows).
    const stale: CID[] = []
    for await (const page of exportRepoBlocks(tx)) {
      for (const c of page.cids()) if (!next.has(c)) stale.push(c)
    }
    const oldUris: string[] = []
    for (const collection of await tx.listCollections()) {
      let cursor: string | undefined
      for (;;) {
        const rows = await tx.listRecords(collection, { limit: 500, cursor })
        for (const row of rows) {
          oldUris.push(`at://${did}/${collection}/${row.rkey}`)
          await tx.deleteRecord(collection, row.rkey)
        }
        if (rows.length < 500) break
        cursor = rows.at(-1)!.rkey
      }
    }
    if (stale.length > 0) await tx.deleteBlocks(stale)
    await tx.putBlocks(next, rev)
    for (const r of records) {
      await tx.putRecord({ collection: r.collection, rkey: r.rkey, cid: r.cid, repoRev: rev })
    }
    await tx.updateRoot(encoded.cid, rev)
    await tx.sequence([
      toSeqInsert(await formatSyncEvent(did, { cid: encoded.cid, bytes: encoded.bytes, rev })),
    ])
    return { cid: encoded.cid, rev, oldUris }
  })
  ctx.sequencer.wake()

  // Blob references follow the new records; blobs only the old records used are forgotten.
  const orphaned = new Map<string, CID>()
  for (const uri of oldUris) {
    for (const c of await ctx.storage.blobs.removeRefs(did, uri)) orphaned.set(c.toString(), c)
  }
  let missing = 0
  for (const r of records) {
    if (r.blobs.length === 0) continue
    for (const b of r.blobs) {
      orphaned.delete(b.toString())
      const row = await ctx.storage.blobs.get(did, b)
      if (!row) missing++
      // addRefs marks uploaded blobs permanent: move their bytes first.
      else if (row.tempKey) await ctx.blobstore.makePermanent(row.tempKey, b)
    }
    await ctx.storage.blobs.addRefs(did, `at://${did}/${r.collection}/${r.rkey}`, r.blobs)
  }
  if (orphaned.size > 0) await ctx.storage.blobs.delete(did, [...orphaned.values()])
  return { cid, rev, records: records.length, missingBlobs: missing }
}

/** Register importRepo and listMissingBlobs. */
export function registerImportMethods(xrpc: XrpcServer, ctx: PdsContext, auth: PdsVerifiers): void {
  xrpc.procedure(ids.ComAtprotoRepoImportRepo, {
    input: {
      encoding: 'application/vnd.ipld.car',
      maxSize: ctx.options.maxImportSize ?? DEFAULT_MAX_IMPORT_SIZE,
    },
    // Full access only (no app passwords), as the reference; deactivated accounts may import (migration).
    auth: auth.accessPrivileged,
    async handler({ auth: a, input }) {
      if (a.kind === 'oauth') {
        throw new InvalidRequestError('importRepo needs a full session, not an OAuth token', 'InvalidToken')
      }
      if (!input || !(input.body instanceof ReadableStream)) {
        throw new InvalidRequestError('Send the repo CAR as the request body')
      }
      await importRepo(ctx, a.did, input.body)
      return undefined
    },
  })

  xrpc.query(ids.ComAtprotoRepoListMissingBlobs, {
    params: paramsOf(ids.ComAtprotoRepoListMissingBlobs),
    auth: auth.access,
    async handler({ auth: a, params }) {
      const limit = params.limit as number
      const rows = await ctx.storage.blobs.listMissing(a.did, {
        limit,
        cursor: params.cursor as string | undefined,
      })
      return json({
        blobs: rows.map((r) => ({ cid: r.cid.toString(), recordUri: r.recordUri })),
        cursor: rows.length === limit ? rows.at(-1)!.cid.toString() : undefined,
      })
    },
  })
}
