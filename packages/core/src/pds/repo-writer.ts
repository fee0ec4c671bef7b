/**
 * The PDS write path: one storage transaction per commit holding the new blocks, the record index, the
 * new root and the `#commit` event, then an in-process wake-up of the firehose.
 */
import { encodeCbor } from '../data/cbor.js'
import type { CID } from '../data/cid.js'
import { type CommitData, type RecordWrite, Repo } from '../repo/repo.js'
import type { AccountRow, RepoTransactor, SeqInsert } from '../storage/types.js'
import { InvalidRequestError } from '../xrpc/xrpc-error.js'
import type { PdsContext } from './context.js'
import { CommitTooLargeError, formatCommitEvent, formatSyncEvent, type SeqEvent } from './events.js'
import { AccountSigningKey } from './signing-key.js'

/** A write after validation: record writes carry the record's IPLD value and the blobs it references. */
export type PreparedWrite =
  | {
      action: 'create' | 'update'
      collection: string
      rkey: string
      record: unknown
      blobs: CID[]
      swapCid?: CID | null
      /** Outcome of lexicon validation, reported in the write's response. */
      validationStatus?: 'valid' | 'unknown'
    }
  | { action: 'delete'; collection: string; rkey: string; swapCid?: CID | null }

/** The swap precondition did not hold (stale `swapCommit` / `swapRecord`). */
export class InvalidSwapError extends InvalidRequestError {
  constructor(message: string) {
    super(message, 'InvalidSwap')
  }
}

/** Encode a firehose event for the sequencer. */
export function toSeqInsert(event: SeqEvent): SeqInsert {
  return { did: event.did, type: event.type, body: encodeCbor(event.body) }
}

// Signing keys by account, so a write does not import its key again (keys stay in the account row).
const signers = new WeakMap<PdsContext, Map<string, { bytes: Uint8Array; key: AccountSigningKey }>>()

async function signerFor(ctx: PdsContext, did: string, known?: AccountRow): Promise<AccountSigningKey> {
  const account = known?.did === did ? known : await ctx.storage.accounts.getByDid(did)
  if (!account) throw new InvalidRequestError(`Could not find repo: ${did}`, 'RepoNotFound')
  let cache = signers.get(ctx)
  if (!cache) signers.set(ctx, (cache = new Map()))
  const hit = cache.get(did)
  if (hit && equalBytes(hit.bytes, account.signingKey)) return hit.key
  const key = AccountSigningKey.fromBytes(account.signingKey)
  if (cache.size >= 10_000) cache.delete(cache.keys().next().value!)
  cache.set(did, { bytes: new Uint8Array(account.signingKey), key })
  return key
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

async function storeCommit(tx: RepoTransactor, data: CommitData): Promise<void> {
  await tx.putBlocks(data.newBlocks, data.rev)
  // What the new version no longer reaches goes with it, as the reference deletes its removed blocks.
  if (data.staleBlocks.length > 0) await tx.deleteBlocks(data.staleBlocks)
  for (const op of data.ops) {
    const [collection, rkey] = op.path.split('/') as [string, string]
    if (op.action === 'delete') await tx.deleteRecord(collection, rkey)
    else await tx.putRecord({ collection, rkey, cid: op.cid!, repoRev: data.rev })
  }
  // Record blocks go too unless another record still has the same CID (the store checks, after the
  // record rows above): a deleted post's bytes must not stay readable by CID.
  if (data.staleRecordBlocks.length > 0) await tx.deleteRecordBlocks(data.staleRecordBlocks)
  await tx.updateRoot(data.cid, data.rev)
}

/** Create the empty repo of a new account, with its `#sync` event (its first commit), in one transaction. */
export async function createRepo(
  ctx: PdsContext,
  did: string,
  signer: AccountSigningKey,
): Promise<CommitData> {
  const data = await ctx.storage.repo.transact(did, async (tx) => {
    if (await tx.getRoot()) throw new InvalidRequestError(`Repo already exists: ${did}`)
    const data = await Repo.formatInitCommit(tx, did, signer)
    await storeCommit(tx, data)
    const commitBytes = data.newBlocks.get(data.cid)!
    await tx.sequence([
      toSeqInsert(await formatSyncEvent(did, { cid: data.cid, bytes: commitBytes, rev: data.rev })),
    ])
    return data
  })
  ctx.sequencer.wake()
  return data
}

/**
 * Apply writes to a repo as one commit. Swaps are checked inside the transaction, against the state
 * the commit builds on, so a stale swap can never commit.
 */
export async function applyWrites(
  ctx: PdsContext,
  did: string,
  writes: PreparedWrite[],
  swapCommit?: CID,
  account?: AccountRow,
): Promise<CommitData> {
  if (writes.length === 0) throw new InvalidRequestError('No writes')
  const signer = await signerFor(ctx, did, account)
  let data: CommitData
  try {
    data = await ctx.storage.repo.transact(did, async (tx) => {
      const root = await tx.getRoot()
      if (!root) throw new InvalidRequestError(`Could not find repo: ${did}`, 'RepoNotFound')
      if (swapCommit && !swapCommit.equals(root.cid)) throw new InvalidSwapError(`Commit was at ${root.cid}`)
      // Reads go through the block cache: a repo's commit and upper MST nodes are the same few blocks
      // write after write. The root itself always comes from the database (above).
      const repo = await Repo.load(ctx.blockCache.readThrough(tx), root.cid)
      const recordWrites: RecordWrite[] = []
      for (const w of writes) {
        const current = await repo.getRecordCid(w.collection, w.rkey)
        if (w.swapCid !== undefined) {
          const ok = w.swapCid === null ? current === null : current?.equals(w.swapCid)
          if (!ok) throw new InvalidSwapError(`Record was at ${current ?? 'null'}`)
        }
        if (w.action === 'create' && current) {
          throw new InvalidRequestError(`Record already exists: ${w.collection}/${w.rkey}`)
        }
        if (w.action === 'delete') {
          if (!current) throw new InvalidRequestError(`Could not find record: ${w.collection}/${w.rkey}`)
          recordWrites.push({ action: 'delete', collection: w.collection, rkey: w.rkey })
        } else {
          recordWrites.push({
            action: current ? 'update' : 'create',
            collection: w.collection,
            rkey: w.rkey,
            record: w.record,
          })
        }
      }
      const data = await repo.formatCommit(recordWrites, signer)
      const blobs = writes.flatMap((w) => (w.action === 'delete' ? [] : w.blobs))
      const event = await formatCommitEvent(did, data, blobs)
      await storeCommit(tx, data)
      await tx.sequence([toSeqInsert(event)])
      return data
    })
  } catch (err) {
    if (err instanceof CommitTooLargeError) throw new InvalidRequestError(err.message)
    throw err
  }
  // Stored now: the next write on this repo starts from these blocks and nodes.
  ctx.blockCache.addMap(data.newBlocks)
  for (const node of data.newMstNodes) ctx.blockCache.addNode(node)
  await ctx.sequencer.published()
  return data
}
