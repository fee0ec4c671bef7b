import { type CommunityHandleRow, type CommunityHandleStore, HandleTakenError } from '@next-atproto/core'

/** Community handles in memory; `create` has no await, so it is atomic. */
export class MemoryCommunityHandleStore implements CommunityHandleStore {
  readonly #rows = new Map<string, CommunityHandleRow>()

  async create(row: Omit<CommunityHandleRow, 'createdAt'>) {
    const handle = row.handle.toLowerCase()
    if (this.#rows.has(handle)) throw new HandleTakenError(handle)
    this.#rows.set(handle, { handle, did: row.did, createdAt: new Date() })
  }

  async get(handle: string) {
    const row = this.#rows.get(handle.toLowerCase())
    return row ? { ...row } : null
  }

  async listForDid(did: string) {
    return [...this.#rows.values()]
      .filter((r) => r.did === did)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
      .map((r) => ({ ...r }))
  }

  async delete(handle: string) {
    return this.#rows.delete(handle.toLowerCase())
  }
}
