import { encodeBlock } from '../data/cbor.js'
import { type CID, cidString } from '../data/cid.js'
import { BlockMap } from './block-map.js'
import type { BlockStore } from './block-store.js'
import { type Commit, decodeCommit, encodeCommit, type Signer, signCommit } from './commit.js'
import { diffMst, type MstDiff } from './diff.js'
import { MissingBlocksError, MstOperationError } from './errors.js'
import { Mst, type MstWrite } from './mst.js'
import type { MstNode } from './mst-node.js'
import { coveringProof, type RecordOp } from './proof.js'
import { nextRev } from './tid.js'

/** A record write. `record` (any IPLD value) is required for create and update. */
export type RecordWrite =
  | { action: 'create' | 'update'; collection: string; rkey: string; record: unknown }
  | { action: 'delete'; collection: string; rkey: string }

/** Everything a commit produced: what to store, what to drop, and what to put on the firehose. */
export interface CommitData {
  cid: CID
  commit: Commit
  rev: string
  /** `rev` of the previous commit (null for the first). */
  since: string | null
  /** MST root of the previous commit (sync 1.1 `prevData`); null for the first. */
  prevData: CID | null
  /** The minimal set of new blocks: commit, new MST nodes, new record blocks. */
  newBlocks: BlockMap
  /** MST nodes and record blocks the new version no longer references (records may be shared). */
  removedCids: CID[]
  /**
   * The part of `removedCids` no other block of the repo can share: the MST nodes the new tree dropped
   * (a node's content names its keys, so its CID occurs once in a tree) and the previous commit. A store
   * deletes these with the commit; record blocks need a check that no other record has the same CID.
   */
  staleBlocks: CID[]
  /**
   * Blocks of the records this commit replaced or deleted, less those it writes again: a store
   * deletes each unless another record of the repo still has the same CID.
   */
  staleRecordBlocks: CID[]
  /** The record operations, with `prev` set for updates and deletes. */
  ops: RecordOp[]
  /** The `#commit` event's CAR slice: new blocks plus the covering proof for every op. */
  relevantBlocks: BlockMap
  /** The new MST nodes (those of `newBlocks`), decoded: for a cache of decoded nodes, once stored. */
  newMstNodes: MstNode[]
}

/** The MST key (repo path) of a record: `collection/rkey`. */
export function formatDataKey(collection: string, rkey: string): string {
  return `${collection}/${rkey}`
}

/**
 * A repository version over a block store. Writes build the new tree in one pass, sign one commit,
 * and return the minimal new blocks; {@link Repo.applyCommit} stores them.
 */
export class Repo {
  private constructor(
    readonly store: BlockStore,
    readonly cid: CID,
    readonly commit: Commit,
    readonly data: Mst,
  ) {}

  get did(): string {
    return this.commit.did
  }

  /** Load the repo at commit `cid`. */
  static async load(store: BlockStore, cid: CID): Promise<Repo> {
    const { blocks, missing } = await store.getBlocks([cid])
    if (missing.length > 0) throw new MissingBlocksError('commit', missing)
    const commit = decodeCommit(blocks.get(cid)!)
    return new Repo(store, cid, commit, await Mst.load(store, commit.data))
  }

  /** Build the first commit of a new repo (not stored: pass it to {@link Repo.createFromCommit}). */
  static async formatInitCommit(
    store: BlockStore,
    did: string,
    signer: Signer,
    writes: RecordWrite[] = [],
    rev?: string,
  ): Promise<CommitData> {
    return buildCommit(null, Mst.create(store), did, writes, signer, rev)
  }

  /** Store a first commit and return the repo. */
  static async createFromCommit(store: BlockStore, data: CommitData): Promise<Repo> {
    await store.putBlocks(data.newBlocks)
    return Repo.load(store, data.cid)
  }

  /** Create and store a new repo. */
  static async create(
    store: BlockStore,
    did: string,
    signer: Signer,
    writes: RecordWrite[] = [],
  ): Promise<Repo> {
    return Repo.createFromCommit(store, await Repo.formatInitCommit(store, did, signer, writes))
  }

  /** CID of the record at `collection/rkey`, or null. */
  async getRecordCid(collection: string, rkey: string): Promise<CID | null> {
    return this.data.get(formatDataKey(collection, rkey))
  }

  /** Record block bytes and CID, or null. */
  async getRecord(collection: string, rkey: string): Promise<{ cid: CID; bytes: Uint8Array } | null> {
    const cid = await this.getRecordCid(collection, rkey)
    if (cid === null) return null
    const { blocks } = await this.store.getBlocks([cid])
    const bytes = blocks.get(cid)
    if (!bytes) throw new MissingBlocksError('record', [cid])
    return { cid, bytes }
  }

  /** Build (but do not store) the next commit applying `writes`. */
  async formatCommit(writes: RecordWrite | RecordWrite[], signer: Signer, rev?: string): Promise<CommitData> {
    return buildCommit(this, this.data, this.did, Array.isArray(writes) ? writes : [writes], signer, rev)
  }

  /** Store a commit built on this version and return the new version. */
  async applyCommit(data: CommitData): Promise<Repo> {
    await this.store.putBlocks(data.newBlocks)
    return Repo.load(this.store, data.cid)
  }

  /** Format, store, and return the new version with its commit data. */
  async applyWrites(
    writes: RecordWrite | RecordWrite[],
    signer: Signer,
  ): Promise<{ repo: Repo; commit: CommitData }> {
    const commit = await this.formatCommit(writes, signer)
    return { repo: await this.applyCommit(commit), commit }
  }
}

/** Record CIDs the diff dropped (updated from or deleted) that none of its adds or updates writes again. */
function staleRecordBlocks(diff: MstDiff): CID[] {
  if (diff.updates.length === 0 && diff.deletes.length === 0) return []
  const written = new Set<string>()
  for (const { cid } of diff.adds) written.add(cidString(cid))
  for (const { cid } of diff.updates) written.add(cidString(cid))
  const out = new Map<string, CID>()
  for (const { prev } of [...diff.updates, ...diff.deletes]) {
    const key = cidString(prev)
    if (!written.has(key)) out.set(key, prev)
  }
  return [...out.values()]
}

async function buildCommit(
  prev: Repo | null,
  tree: Mst,
  did: string,
  writes: RecordWrite[],
  signer: Signer,
  rev?: string,
): Promise<CommitData> {
  const records = new BlockMap()
  const mstWrites: MstWrite[] = writes.map((w) => {
    const key = formatDataKey(w.collection, w.rkey)
    if (w.action === 'delete') return { key, cid: null }
    const { cid, bytes } = encodeBlock(w.record)
    records.set(cid, bytes)
    return { key, cid }
  })
  const { tree: next, prevs } = await tree.applyWrites(mstWrites)
  const ops: RecordOp[] = writes.map((w, i) => {
    const path = mstWrites[i].key
    const before = prevs[i]
    if (w.action === 'create' && before !== null)
      throw new MstOperationError(`record already exists: ${path}`)
    if (w.action !== 'create' && before === null) throw new MstOperationError(`record not found: ${path}`)
    if (w.action === 'delete') return { action: 'delete', path, cid: null, prev: before }
    return w.action === 'create'
      ? { action: 'create', path, cid: mstWrites[i].cid }
      : { action: 'update', path, cid: mstWrites[i].cid, prev: before }
  })
  const diff = await diffMst(prev ? tree : null, next)
  const newBlocks = diff.newNodes
  for (const { cid } of [...diff.adds, ...diff.updates]) {
    const bytes = records.get(cid)
    if (bytes) newBlocks.set(cid, bytes)
  }
  const removedCids = [
    ...diff.removedNodes,
    ...diff.updates.map((u) => u.prev),
    ...diff.deletes.map((d) => d.prev),
  ]
  const newRev = rev ?? nextRev(prev?.commit.rev)
  const commit = await signCommit({ did, version: 3, data: next.rootCid, rev: newRev, prev: null }, signer)
  const encoded = encodeCommit(commit)
  newBlocks.set(encoded.cid, encoded.bytes)
  if (prev) removedCids.push(prev.cid)
  const relevantBlocks = new BlockMap().addMap(newBlocks)
  relevantBlocks.addMap(
    await coveringProof(
      next,
      mstWrites.map((w) => w.key),
    ),
  )
  return {
    cid: encoded.cid,
    commit,
    rev: newRev,
    since: prev?.commit.rev ?? null,
    prevData: prev ? prev.data.rootCid : null,
    newBlocks,
    removedCids,
    staleBlocks: prev ? [...diff.removedNodes, prev.cid] : diff.removedNodes,
    staleRecordBlocks: staleRecordBlocks(diff),
    ops,
    relevantBlocks,
    newMstNodes: diff.newNodeList,
  }
}
