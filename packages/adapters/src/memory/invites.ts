import type { InviteCodeRow, InviteCodeStore } from '@next-atproto/core'

const copy = (row: InviteCodeRow): InviteCodeRow => ({ ...row, uses: row.uses.map((u) => ({ ...u })) })

/** Invite codes in memory; `use` has no await, so it is atomic. */
export class MemoryInviteCodeStore implements InviteCodeStore {
  readonly #codes = new Map<string, InviteCodeRow>()

  async create(codes: Array<{ code: string; availableUses: number; forAccount: string; createdBy: string }>) {
    const createdAt = new Date()
    for (const c of codes) this.#codes.set(c.code, { ...c, disabled: false, createdAt, uses: [] })
  }

  async get(code: string) {
    const row = this.#codes.get(code)
    return row ? copy(row) : null
  }

  async use(code: string, usedBy: string) {
    const row = this.#codes.get(code)
    if (!row || row.disabled || row.uses.length >= row.availableUses) return false
    row.uses.push({ usedBy, usedAt: new Date() })
    return true
  }

  async listForAccount(did: string) {
    return [...this.#codes.values()]
      .filter((r) => r.forAccount === did)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.code < b.code ? 1 : -1))
      .map(copy)
  }

  async disable({ codes = [], accounts = [] }: { codes?: string[]; accounts?: string[] }) {
    const byCode = new Set(codes)
    const byAccount = new Set(accounts)
    for (const row of this.#codes.values()) {
      if (byCode.has(row.code) || byAccount.has(row.forAccount)) row.disabled = true
    }
  }
}
