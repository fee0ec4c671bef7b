import {
  type HostUserStore,
  type TakedownRow,
  type TakedownStore,
  UniqueConstraintError,
} from '@next-atproto/core'

/** Takedowns in memory. */
export class MemoryTakedownStore implements TakedownStore {
  readonly #rows = new Map<string, TakedownRow>()

  async put(subject: string, ref: string) {
    this.#rows.set(subject, { subject, ref, createdAt: new Date() })
  }

  async remove(subject: string) {
    this.#rows.delete(subject)
  }

  async get(subject: string) {
    const row = this.#rows.get(subject)
    return row ? { ...row } : null
  }

  async filter(subjects: string[]) {
    return subjects.filter((s) => this.#rows.has(s))
  }
}

/** Host-user links in memory. */
export class MemoryHostUserStore implements HostUserStore {
  readonly #byUser = new Map<string, string>()
  readonly #byDid = new Map<string, string>()

  async link(userId: string, did: string) {
    if (this.#byUser.has(userId)) throw new UniqueConstraintError('userId')
    if (this.#byDid.has(did)) throw new UniqueConstraintError('did')
    this.#byUser.set(userId, did)
    this.#byDid.set(did, userId)
  }

  async getDid(userId: string) {
    return this.#byUser.get(userId) ?? null
  }

  async getUserId(did: string) {
    return this.#byDid.get(did) ?? null
  }

  async unlink(did: string) {
    const userId = this.#byDid.get(did)
    if (userId === undefined) return
    this.#byDid.delete(did)
    this.#byUser.delete(userId)
  }
}
