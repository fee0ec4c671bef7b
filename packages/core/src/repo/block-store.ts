import type { CID } from '../data/cid.js'
import { BlockMap } from './block-map.js'
import type { MstNode } from './mst-node.js'

/**
 * The storage primitive the repository reads and writes through. Storage adapters implement this
 * (e.g. over a `repo_block` table); everything else in the repo layer is derived from it.
 */
export interface BlockStore {
  /** Fetch many blocks in one round trip; CIDs not stored are listed in `missing`. */
  getBlocks(cids: CID[]): Promise<{ blocks: BlockMap; missing: CID[] }>
  /** Store blocks; storing an existing CID again is a no-op. */
  putBlocks(blocks: BlockMap): Promise<void>
  /**
   * Optional: MST nodes already decoded and validated, by CID (see {@link BlockCache}). Tree loads
   * take nodes from here instead of fetching and decoding their blocks again.
   */
  readonly decodedNodes?: DecodedNodes
}

/** Decoded MST nodes by CID. Blocks are content-addressed, so an entry is right for every repo. */
export interface DecodedNodes {
  /**
   * A fresh copy of the decoded node for `cid` (its sub-tree links as CIDs), or undefined. `layer`
   * sets the copy's depth (a node without keys takes the depth it is met at); callers check it.
   */
  getNode(cid: CID, layer?: number): MstNode | undefined
  /** Keep a decoded node (links to loaded nodes are kept as their CIDs). */
  addNode(node: MstNode): void
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
