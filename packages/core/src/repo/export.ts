import { decodeCbor } from '../data/cbor.js'
import { CID, cidString } from '../data/cid.js'
import type { BlockMap } from './block-map.js'
import type { BlockStore } from './block-store.js'
import { type CarBlock, toReadableStream, writeCar } from './car.js'
import { decodeCommit } from './commit.js'
import { InvalidMstNodeError, MissingBlocksError } from './errors.js'

interface Item {
  cid: CID
  node: boolean
}

interface Frame {
  /** Child node / record CIDs in emission order: slot 0, record 0, slot 1, record 1, …, slot n. */
  items: Item[]
  next: number
}

/** The links of an MST node block, in the streamable CAR order. Light parse: no shape validation. */
function nodeItems(cid: CID, bytes: Uint8Array): { cid: CID; node: boolean }[] {
  const data = decodeCbor(bytes) as { l?: unknown; e?: { v?: unknown; t?: unknown }[] }
  if (typeof data !== 'object' || data === null || !Array.isArray(data.e)) {
    throw new InvalidMstNodeError(`MST node ${cid} does not match the node schema`)
  }
  const items: { cid: CID; node: boolean }[] = []
  const link = (v: unknown, node: boolean) => {
    const c = CID.asCID(v)
    if (c) items.push({ cid: c, node })
    else if (node && v !== null) throw new InvalidMstNodeError(`MST node ${cid} has a bad sub-tree link`)
  }
  link(data.l, true)
  for (const e of data.e) {
    if (!CID.asCID(e.v)) throw new InvalidMstNodeError(`MST node ${cid} has an entry without value`)
    link(e.v, false)
    link(e.t, true)
  }
  return items
}

async function fetchAll(store: BlockStore, cids: CID[], what: string): Promise<BlockMap> {
  const { blocks, missing } = await store.getBlocks(cids)
  if (missing.length > 0) throw new MissingBlocksError(what, missing)
  return blocks
}

/** Options of {@link mstBlocks}. */
export interface MstBlocksOptions {
  /** Blocks asked of the store per round trip (default 500). */
  batchSize?: number
}

/**
 * The blocks of an MST and its records in the streamable order (pre-order; each node followed by
 * its sub-trees and records in entry order). Round trips are batched: when a node's children are
 * needed, the children of the nodes that come next (already fetched, not yet opened) are asked for in
 * the same call, so a repo costs about its depth plus blocks/batchSize round trips rather than one per
 * node (a database store pays ~1 ms per query). Memory stays bounded by a few batches, whatever the
 * repo's size: blocks are dropped once emitted.
 */
export async function* mstBlocks(
  store: BlockStore,
  root: CID,
  options: MstBlocksOptions = {},
): AsyncGenerator<CarBlock> {
  const batchSize = Math.max(1, options.batchSize ?? 500)
  const maxHeld = batchSize * 8
  // Fetched blocks not yet emitted, with how many pending occurrences (identical records share a CID).
  const held = new Map<string, { bytes: Uint8Array | undefined; uses: number }>()
  // Nodes whose items are registered in `held`, waiting to be opened.
  const prepared = new Map<string, Item[]>()
  const stack: Frame[] = []

  // Register the items of a node in `held`; the ones not held yet are added to `wanted`.
  const register = (cid: CID, bytes: Uint8Array, wanted: CID[]) => {
    const items = nodeItems(cid, bytes)
    for (const item of items) {
      const key = cidString(item.cid)
      const entry = held.get(key)
      if (entry) entry.uses++
      else {
        held.set(key, { bytes: undefined, uses: 1 })
        wanted.push(item.cid)
      }
    }
    prepared.set(cidString(cid), items)
  }

  const prepare = async (cid: CID, bytes: Uint8Array) => {
    const wanted: CID[] = []
    register(cid, bytes, wanted)
    // Nodes that come next in pre-order (the top frame's remaining items, then the frames below,
    // descending into nodes already prepared) join the same round trip while there is room.
    const visit = (items: Item[], from: number): boolean => {
      for (let i = from; i < items.length; i++) {
        if (wanted.length >= batchSize || held.size >= maxHeld) return false
        const item = items[i]!
        if (!item.node) continue
        const key = cidString(item.cid)
        const sub = prepared.get(key)
        if (sub) {
          if (!visit(sub, 0)) return false
          continue
        }
        const entry = held.get(key)
        if (entry?.bytes) register(item.cid, entry.bytes, wanted)
      }
      return true
    }
    if (visit(prepared.get(cidString(cid))!, 0)) {
      for (let f = stack.length - 1; f >= 0; f--) if (!visit(stack[f]!.items, stack[f]!.next)) break
    }
    if (wanted.length === 0) return
    const blocks = await fetchAll(store, wanted, 'MST node or record')
    for (const c of wanted) held.get(cidString(c))!.bytes = blocks.get(c)
  }

  const open = async (cid: CID, bytes: Uint8Array) => {
    const key = cidString(cid)
    if (!prepared.has(key)) await prepare(cid, bytes)
    const items = prepared.get(key)!
    prepared.delete(key)
    stack.push({ items, next: 0 })
  }

  const rootBytes = (await fetchAll(store, [root], 'MST root')).get(root)!
  yield { cid: root, bytes: rootBytes }
  await open(root, rootBytes)
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!
    if (frame.next >= frame.items.length) {
      stack.pop()
      continue
    }
    const item = frame.items[frame.next++]!
    const key = cidString(item.cid)
    const entry = held.get(key)!
    const bytes = entry.bytes!
    if (--entry.uses === 0) held.delete(key)
    yield { cid: item.cid, bytes }
    if (item.node) await open(item.cid, bytes)
  }
}

/** Commit block first, then the MST and records (the streamable repo CAR order). */
export async function* repoBlocks(store: BlockStore, commitCid: CID): AsyncGenerator<CarBlock> {
  const bytes = (await fetchAll(store, [commitCid], 'commit')).get(commitCid)!
  yield { cid: commitCid, bytes }
  yield* mstBlocks(store, decodeCommit(bytes).data)
}

/** Full repo export as CAR chunks (`com.atproto.sync.getRepo`), streamed with bounded memory. */
export function exportRepoCar(store: BlockStore, commitCid: CID): AsyncGenerator<Uint8Array> {
  return writeCar([commitCid], repoBlocks(store, commitCid))
}

/** Full repo export as a Web ReadableStream, ready for a `Response` body. */
export function exportRepoStream(store: BlockStore, commitCid: CID): ReadableStream<Uint8Array> {
  return toReadableStream(exportRepoCar(store, commitCid))
}
