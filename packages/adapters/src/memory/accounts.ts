import {
  type AccountRow,
  type AccountStore,
  type AppPasswordRow,
  HandleTakenError,
  type RefreshTokenRow,
  UniqueConstraintError,
} from '@next-atproto/core'

/** Accounts, sessions and tokens in memory. Every method runs synchronously, so each is atomic. */
export class MemoryAccountStore implements AccountStore {
  readonly #byDid = new Map<string, AccountRow>()
  readonly #refresh = new Map<string, RefreshTokenRow>()
  readonly #appPasswords = new Map<string, AppPasswordRow[]>()
  readonly #emailTokens = new Map<string, { did: string; expiresAt: Date }>()

  #find(pred: (a: AccountRow) => boolean): AccountRow | null {
    for (const a of this.#byDid.values()) if (pred(a)) return { ...a }
    return null
  }

  async create(row: Omit<AccountRow, 'createdAt' | 'deactivatedAt' | 'emailConfirmedAt'>): Promise<void> {
    if (this.#byDid.has(row.did)) throw new UniqueConstraintError('did')
    if (this.#find((a) => a.handle === row.handle)) throw new HandleTakenError(row.handle)
    if (row.email && this.#find((a) => a.email === row.email)) throw new UniqueConstraintError('email')
    this.#byDid.set(row.did, { ...row, createdAt: new Date(), deactivatedAt: null, emailConfirmedAt: null })
  }

  async getByDid(did: string) {
    const a = this.#byDid.get(did)
    return a ? { ...a } : null
  }

  async getByHandle(handle: string) {
    return this.#find((a) => a.handle === handle)
  }

  async getByEmail(email: string) {
    return this.#find((a) => a.email === email)
  }

  async list({ limit, cursor }: { limit: number; cursor?: string }) {
    return [...this.#byDid.values()]
      .sort((a, b) => (a.did < b.did ? -1 : 1))
      .filter((a) => cursor === undefined || a.did > cursor)
      .slice(0, limit)
      .map((a) => ({ ...a }))
  }

  #update(did: string, patch: Partial<AccountRow>): void {
    const a = this.#byDid.get(did)
    if (a) this.#byDid.set(did, { ...a, ...patch })
  }

  async updateHandle(did: string, handle: string) {
    const other = this.#find((a) => a.handle === handle)
    if (other && other.did !== did) throw new HandleTakenError(handle)
    this.#update(did, { handle })
  }

  async updateEmail(did: string, email: string | null) {
    const other = email ? this.#find((a) => a.email === email) : null
    if (other && other.did !== did) throw new UniqueConstraintError('email')
    this.#update(did, { email, emailConfirmedAt: null })
  }

  async updatePassword(did: string, passwordHash: string) {
    this.#update(did, { passwordHash })
  }

  async updateStatus(did: string, status: AccountRow['status']) {
    this.#update(did, { status, deactivatedAt: status === 'deactivated' ? new Date() : null })
  }

  async delete(did: string) {
    this.#byDid.delete(did)
    this.#appPasswords.delete(did)
    for (const [id, row] of this.#refresh) if (row.did === did) this.#refresh.delete(id)
    for (const [key, row] of this.#emailTokens) if (row.did === did) this.#emailTokens.delete(key)
  }

  async createRefreshToken(row: RefreshTokenRow) {
    this.#refresh.set(row.id, { ...row })
  }

  async getRefreshToken(id: string) {
    const row = this.#refresh.get(id)
    return row ? { ...row } : null
  }

  async rotateRefreshToken(id: string, nextId: string) {
    const row = this.#refresh.get(id)
    if (!row || row.nextId !== null) return false
    // The rotated token dies at once: a second use is a reuse and fails.
    this.#refresh.delete(id)
    return nextId.length > 0
  }

  async deleteRefreshToken(id: string) {
    this.#refresh.delete(id)
  }

  async deleteRefreshTokensForDid(did: string, appPasswordName?: string) {
    for (const [id, row] of this.#refresh) {
      if (row.did === did && (appPasswordName === undefined || row.appPasswordName === appPasswordName)) {
        this.#refresh.delete(id)
      }
    }
  }

  async createAppPassword(row: AppPasswordRow) {
    const list = this.#appPasswords.get(row.did) ?? []
    if (list.some((a) => a.name === row.name)) throw new UniqueConstraintError('name')
    this.#appPasswords.set(row.did, [...list, { ...row }])
  }

  async listAppPasswords(did: string) {
    return (this.#appPasswords.get(did) ?? []).map((a) => ({ ...a }))
  }

  async deleteAppPassword(did: string, name: string) {
    this.#appPasswords.set(
      did,
      (this.#appPasswords.get(did) ?? []).filter((a) => a.name !== name),
    )
  }

  async createEmailToken(row: { did: string; purpose: string; token: string; expiresAt: Date }) {
    this.#emailTokens.set(`${row.purpose}:${row.token}`, { did: row.did, expiresAt: row.expiresAt })
  }

  async consumeEmailToken(purpose: string, token: string) {
    const key = `${purpose}:${token}`
    const row = this.#emailTokens.get(key)
    this.#emailTokens.delete(key)
    return row && row.expiresAt.getTime() > Date.now() ? row.did : null
  }
}
