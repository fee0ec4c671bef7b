import { type CID, cidString } from '../data/cid.js'
import { BlockMap } from './block-map.js'
import type { BlockStore } from './block-store.js'

/**
 * Recently used blocks by CID, bounded by their total size (least recently used go first). Blocks are
 * content-addressed, so a cached block is right for every repo, transaction and process that names its
 * CID: the write path reads a repo's commit and MST nodes through it instead of asking the database for
 * the same few nodes on every write. Fill it only with blocks that were stored (after commit).
 */
export class BlockCache {
  readonly #blocks = new Map<string, { cid: CID; bytes: Uint8Array }>()
  #size = 0

  /** @param maxBytes total block bytes kept (default 16 MiB); 0 disables the cache. */
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
    }
  }
}
