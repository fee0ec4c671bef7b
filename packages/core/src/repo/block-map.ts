import { type CID, cidString } from '../data/cid.js'

/**
 * Blocks keyed by CID (internally by the CID's string form, since CID objects are not value-comparable).
 * Insertion-ordered, so a CAR written from it keeps the order blocks were added in.
 */
export class BlockMap implements Iterable<[CID, Uint8Array]> {
  private readonly map = new Map<string, { cid: CID; bytes: Uint8Array }>()

  /** Store `bytes` under `cid` (replaces an existing entry). */
  set(cid: CID, bytes: Uint8Array): this {
    this.map.set(cidString(cid), { cid, bytes })
    return this
  }

  get(cid: CID): Uint8Array | undefined {
    return this.map.get(cidString(cid))?.bytes
  }

  has(cid: CID): boolean {
    return this.map.has(cidString(cid))
  }

  delete(cid: CID): boolean {
    return this.map.delete(cidString(cid))
  }

  get size(): number {
    return this.map.size
  }

  /** Copy every entry of `other` into this map. */
  addMap(other: BlockMap): this {
    for (const [k, v] of other.map) this.map.set(k, v)
    return this
  }

  /** Split `cids` into the blocks present here and the missing CIDs. */
  getMany(cids: Iterable<CID>): { blocks: BlockMap; missing: CID[] } {
    const blocks = new BlockMap()
    const missing: CID[] = []
    for (const cid of cids) {
      const bytes = this.get(cid)
      if (bytes) blocks.set(cid, bytes)
      else missing.push(cid)
    }
    return { blocks, missing }
  }

  cids(): CID[] {
    return [...this.map.values()].map((e) => e.cid)
  }

  /** Total byte size of the stored blocks. */
  byteSize(): number {
    let n = 0
    for (const e of this.map.values()) n += e.bytes.byteLength
    return n
  }

  *[Symbol.iterator](): Iterator<[CID, Uint8Array]> {
    for (const e of this.map.values()) yield [e.cid, e.bytes]
  }
}
