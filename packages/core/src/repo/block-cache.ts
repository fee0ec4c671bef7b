import { type CID, cidString } from '../data/cid.js'
import { BlockMap } from './block-map.js'
import type { BlockStore, DecodedNodes } from './block-store.js'
import { linkCid, MstNode } from './mst-node.js'

/**
 * Recently used blocks by CID, bounded by their total size (least recently used go first). Blocks are
 * content-addressed, so a cached block is right for every repo, transaction and process that names its
 * CID: the write path reads a repo's commit and MST nodes through it instead of asking the database for
 * the same few nodes on every write. Fill it only with blocks that were stored (after commit).
 */
export class BlockCache implements DecodedNodes {
  readonly #blocks = new Map<string, { cid: CID; bytes: Uint8Array }>()
  #size = 0
  // Decoded MST nodes (links as CIDs, never handed out: callers get copies), least recently used first.
  // Decoding and validating a node costs more than reading its block, and a write walks the same path
  // of nodes as the write before it (whose new nodes it adds here).
  readonly #nodes = new Map<string, MstNode>()
  #nodeSize = 0

  /**
   * @param maxBytes total block bytes kept (default 16 MiB), and the budget of the decoded nodes
   * (estimated heap size); 0 disables the cache.
   */
  constructor(readonly maxBytes = 16 * 1024 * 1024) {}

  /** Bytes of the cached blocks. */
  get byteSize(): number {
    return this.#size
  }

  /** The cached bytes of `cid` (marks it recently used). */
  get(cid: CID): Uint8Array | undefined {
    const key = cidString(cid)
    const hit = this.#blocks.get(key)
    if (!hit) return undefined
    this.#blocks.delete(key)
    this.#blocks.set(key, hit)
    return hit.bytes
  }

  /** Cache one block. */
  set(cid: CID, bytes: Uint8Array): void {
    if (bytes.length > this.maxBytes / 8) return // one huge record must not flush the whole cache
    const key = cidString(cid)
    const old = this.#blocks.get(key)
    if (old) {
      this.#blocks.delete(key)
      this.#size -= old.bytes.length
    }
    this.#blocks.set(key, { cid, bytes })
    this.#size += bytes.length
    for (const [k, v] of this.#blocks) {
      if (this.#size <= this.maxBytes) break
      this.#blocks.delete(k)
      this.#size -= v.bytes.length
    }
  }

  /** A copy of the decoded MST node of `cid`, at depth `layer` if given (marks it recently used). */
  getNode(cid: CID, layer?: number): MstNode | undefined {
    const key = cidString(cid)
    const hit = this.#nodes.get(key)
    if (!hit) return undefined
    this.#nodes.delete(key)
    this.#nodes.set(key, hit)
    return new MstNode(layer ?? hit.layer, hit.keys, hit.vals, hit.slots.slice(), hit.cid, hit.bytes)
  }

  /** Keep a decoded (or freshly built, once stored) MST node. */
  addNode(node: MstNode): void {
    const key = cidString(node.cid)
    if (this.maxBytes === 0 || this.#nodes.has(key)) return
    const slots = node.slots.map((s) => (s === null ? null : linkCid(s)))
    this.#nodes.set(key, new MstNode(node.layer, node.keys, node.vals, slots, node.cid, node.bytes))
    this.#nodeSize += nodeCost(node)
    for (const [k, v] of this.#nodes) {
      if (this.#nodeSize <= this.maxBytes) break
      this.#nodes.delete(k)
      this.#nodeSize -= nodeCost(v)
    }
  }

  /** Cache every block of a map (e.g. a commit's new blocks, once stored). */
  addMap(blocks: BlockMap): void {
    for (const [cid, bytes] of blocks) this.set(cid, bytes)
  }

  /** A store that answers from the cache and asks `store` only for the rest (which it then caches). */
  readThrough(store: BlockStore): BlockStore {
    return {
      getBlocks: async (cids) => {
        const blocks = new BlockMap()
        const wanted: CID[] = []
        for (const cid of cids) {
          const bytes = this.get(cid)
          if (bytes) blocks.set(cid, bytes)
          else wanted.push(cid)
        }
        if (wanted.length === 0) return { blocks, missing: [] }
        const fetched = await store.getBlocks(wanted)
        for (const [cid, bytes] of fetched.blocks) {
          blocks.set(cid, bytes)
          this.set(cid, bytes)
        }
        return { blocks, missing: fetched.missing }
      },
      putBlocks: (blocks) => store.putBlocks(blocks),
      decodedNodes: this,
    }
  }
}

/** Rough heap size of a decoded node: its bytes, plus its key strings and CID objects. */
function nodeCost(node: MstNode): number {
  return node.bytes.length * 4
}
