import type { CID } from '../data/cid.js'
import { BlockMap } from './block-map.js'

/**
 * The storage primitive the repository reads and writes through. Storage adapters implement this
 * (e.g. over a `repo_block` table); everything else in the repo layer is derived from it.
 */
export interface BlockStore {
  /** Fetch many blocks in one round trip; CIDs not stored are listed in `missing`. */
  getBlocks(cids: CID[]): Promise<{ blocks: BlockMap; missing: CID[] }>
  /** Store blocks; storing an existing CID again is a no-op. */
  putBlocks(blocks: BlockMap): Promise<void>
}

/** A BlockStore in memory, for tests, verification of CARs and partial trees built from proofs. */
export class MemoryBlockStore implements BlockStore {
  readonly blocks: BlockMap

  constructor(blocks?: BlockMap) {
    this.blocks = blocks ?? new BlockMap()
  }

  async getBlocks(cids: CID[]): Promise<{ blocks: BlockMap; missing: CID[] }> {
    return this.blocks.getMany(cids)
  }

  async putBlocks(blocks: BlockMap): Promise<void> {
    this.blocks.addMap(blocks)
  }

  /** Synchronous read, used by fast paths that already hold a memory store. */
  getSync(cid: CID): Uint8Array | undefined {
    return this.blocks.get(cid)
  }
}
