/**
 * Firehose (com.atproto.sync.subscribeRepos) event bodies, as stored by the sequencer and sent on the
 * wire. Bodies are stored without `seq` (assigned by the database) and framed on read.
 */
import type { CID } from '../data/cid.js'
import { BlockMap } from '../repo/block-map.js'
import { blocksToCarFile } from '../repo/car.js'
import type { CommitData } from '../repo/repo.js'

/** Limits of a `#commit` event (sync.md): writes that would exceed them are refused up front. */
export const MAX_COMMIT_OPS = 200
export const MAX_COMMIT_BLOCKS_BYTES = 2_000_000

/** `#commit` body (without seq). */
export interface CommitEvent {
  rebase: false
  tooBig: boolean
  repo: string
  commit: CID
  rev: string
  since: string | null
  blocks: Uint8Array
  ops: Array<{ action: 'create' | 'update' | 'delete'; path: string; cid: CID | null; prev?: CID }>
  blobs: CID[]
  prevData?: CID
  time: string
}

/** `#sync` body: the repo's current commit, for consumers to resynchronize (account (re)creation, import). */
export interface SyncEvent {
  did: string
  blocks: Uint8Array
  rev: string
  time: string
}

/** `#identity` body: handle or DID document changed. */
export interface IdentityEvent {
  did: string
  handle?: string
  time: string
}

/** Account hosting status, as `#account` events and getRepoStatus report it. */
export type AccountStatus =
  | 'takendown'
  | 'suspended'
  | 'deleted'
  | 'deactivated'
  | 'desynchronized'
  | 'throttled'

/** `#account` body. */
export interface AccountEvent {
  did: string
  active: boolean
  status?: AccountStatus
  time: string
}

/** A sequencer event as written: its type and body. */
export type SeqEvent =
  | { type: 'commit'; did: string; body: CommitEvent }
  | { type: 'sync'; did: string; body: SyncEvent }
  | { type: 'identity'; did: string; body: IdentityEvent }
  | { type: 'account'; did: string; body: AccountEvent }

/** Thrown when a commit's event would exceed the limits of sync.md. */
export class CommitTooLargeError extends Error {
  override name = 'CommitTooLargeError'
}

/**
 * Build the `#commit` event of a commit: its CAR slice is the new blocks plus the covering proof of every
 * op, so consumers can verify it by inversion (sync 1.1). `tooBig` is deprecated and always false: a
 * commit over the limits is refused instead (throws {@link CommitTooLargeError}).
 */
export async function formatCommitEvent(did: string, data: CommitData, blobs: CID[] = []): Promise<SeqEvent> {
  if (data.ops.length > MAX_COMMIT_OPS) {
    throw new CommitTooLargeError(`Too many writes. Max: ${MAX_COMMIT_OPS}`)
  }
  const blocks = await blocksToCarFile(data.cid, data.relevantBlocks)
  if (blocks.byteLength > MAX_COMMIT_BLOCKS_BYTES) {
    throw new CommitTooLargeError(
      `Commit too large: ${blocks.byteLength} bytes of blocks (max ${MAX_COMMIT_BLOCKS_BYTES})`,
    )
  }
  const body: CommitEvent = {
    rebase: false,
    tooBig: false,
    repo: did,
    commit: data.cid,
    rev: data.rev,
    since: data.since,
    blocks,
    ops: data.ops.map((op) => {
      const out: CommitEvent['ops'][number] = { action: op.action, path: op.path, cid: op.cid }
      if (op.prev) out.prev = op.prev
      return out
    }),
    blobs,
    time: new Date().toISOString(),
  }
  if (data.prevData) body.prevData = data.prevData
  return { type: 'commit', did, body }
}

/** Build a `#sync` event for the repo's current commit. */
export async function formatSyncEvent(
  did: string,
  commit: { cid: CID; bytes: Uint8Array; rev: string },
): Promise<SeqEvent> {
  const map = new BlockMap()
  map.set(commit.cid, commit.bytes)
  return {
    type: 'sync',
    did,
    body: {
      did,
      blocks: await blocksToCarFile(commit.cid, map),
      rev: commit.rev,
      time: new Date().toISOString(),
    },
  }
}

/** Build an `#identity` event. */
export function formatIdentityEvent(did: string, handle?: string): SeqEvent {
  const body: IdentityEvent = { did, time: new Date().toISOString() }
  if (handle) body.handle = handle
  return { type: 'identity', did, body }
}

/** Build an `#account` event. */
export function formatAccountEvent(did: string, active: boolean, status?: AccountStatus): SeqEvent {
  const body: AccountEvent = { did, active, time: new Date().toISOString() }
  if (!active && status) body.status = status
  return { type: 'account', did, body }
}
