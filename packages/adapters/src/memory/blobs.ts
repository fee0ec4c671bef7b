import { type BlobMetaStore, type BlobRow, CID } from '@next-atproto/core'

/** Blob metadata and record references in memory. */
export class MemoryBlobMetaStore implements BlobMetaStore {
  readonly #blobs = new Map<string, BlobRow>()
  /** `did cid` -> record URIs referencing it */
  readonly #refs = new Map<string, Set<string>>()

  #key = (did: string, cid: CID | string) => `${did} ${cid.toString()}`

  async track(row: Omit<BlobRow, 'createdAt' | 'takedown'>) {
    const key = this.#key(row.did, row.cid)
    if (!this.#blobs.has(key)) this.#blobs.set(key, { ...row, createdAt: new Date(), takedown: false })
  }

  async get(did: string, cid: CID) {
    const row = this.#blobs.get(this.#key(did, cid))
    return row ? { ...row } : null
  }

  async addRefs(did: string, recordUri: string, cids: CID[]) {
    for (const cid of cids) {
      const key = this.#key(did, cid)
      let set = this.#refs.get(key)
      if (!set) this.#refs.set(key, (set = new Set()))
      set.add(recordUri)
      const row = this.#blobs.get(key)
      if (row) row.tempKey = null
    }
  }

  async removeRefs(did: string, recordUri: string) {
    const orphaned: CID[] = []
    for (const [key, set] of this.#refs) {
      if (!key.startsWith(`${did} `) || !set.delete(recordUri)) continue
      if (set.size === 0) {
        this.#refs.delete(key)
        const row = this.#blobs.get(key)
        if (row) orphaned.push(row.cid)
      }
    }
    return orphaned
  }

  async list(did: string, { limit, cursor }: { limit: number; cursor?: string }) {
    return [...this.#blobs.values()]
      .filter((b) => b.did === did && b.tempKey === null)
      .map((b) => b.cid)
      .sort((a, b) => (a.toString() < b.toString() ? -1 : 1))
      .filter((c) => cursor === undefined || c.toString() > cursor)
      .slice(0, limit)
  }

  async listMissing(did: string, { limit, cursor }: { limit: number; cursor?: string }) {
    const out: Array<{ cid: CID; recordUri: string }> = []
    for (const [key, set] of this.#refs) {
      if (!key.startsWith(`${did} `) || this.#blobs.has(key)) continue
      const cid = CID.parse(key.slice(did.length + 1))
      if (cursor !== undefined && cid.toString() <= cursor) continue
      out.push({ cid, recordUri: [...set][0]! })
    }
    return out.sort((a, b) => (a.cid.toString() < b.cid.toString() ? -1 : 1)).slice(0, limit)
  }

  async listStaleTemp(before: Date, limit: number) {
    return [...this.#blobs.values()].filter((b) => b.tempKey !== null && b.createdAt < before).slice(0, limit)
  }

  async delete(did: string, cids: CID[]) {
    for (const cid of cids) this.#blobs.delete(this.#key(did, cid))
  }

  async unreferenced(cids: CID[]) {
    const held = new Set<string>()
    for (const row of this.#blobs.values()) held.add(row.cid.toString())
    return cids.filter((cid) => !held.has(cid.toString()))
  }

  async hasRefs(did: string, cid: CID) {
    return (this.#refs.get(this.#key(did, cid))?.size ?? 0) > 0
  }

  async setTakedown(did: string, cid: CID, takedown: boolean) {
    const row = this.#blobs.get(this.#key(did, cid))
    if (row) row.takedown = takedown
  }
}
