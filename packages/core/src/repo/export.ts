import { decodeCbor } from '../data/cbor.js'
import { CID } from '../data/cid.js'
import type { BlockMap } from './block-map.js'
import type { BlockStore } from './block-store.js'
import { type CarBlock, toReadableStream, writeCar } from './car.js'
import { decodeCommit } from './commit.js'
import { InvalidMstNodeError, MissingBlocksError } from './errors.js'

interface Frame {
  /** Child node / record CIDs in emission order: slot 0, record 0, slot 1, record 1, …, slot n. */
  items: { cid: CID; node: boolean }[]
  next: number
  fetched: BlockMap
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

/**
 * The blocks of an MST and its records in the streamable order (pre-order; each node followed by
 * its sub-trees and records in entry order). One store round trip per node, and memory bounded by
 * the tree depth times the node width: nothing is materialized, whatever the repo's size.
 */
export async function* mstBlocks(store: BlockStore, root: CID): AsyncGenerator<CarBlock> {
  const rootBytes = (await fetchAll(store, [root], 'MST root')).get(root)!
  yield { cid: root, bytes: rootBytes }
  const open = async (cid: CID, bytes: Uint8Array): Promise<Frame> => {
    const items = nodeItems(cid, bytes)
    const fetched =
      items.length > 0
        ? await fetchAll(
            store,
            items.map((i) => i.cid),
            'MST node or record',
          )
        : undefined
    return { items, next: 0, fetched: fetched! }
  }
  const stack: Frame[] = [await open(root, rootBytes)]
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]
    if (frame.next >= frame.items.length) {
      stack.pop()
      continue
    }
    const item = frame.items[frame.next++]
    const bytes = frame.fetched.get(item.cid)!
    yield { cid: item.cid, bytes }
    if (item.node) stack.push(await open(item.cid, bytes))
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
