/**
 * Accounts and takedowns over Prisma, with their per-request reads on the direct SQLite connection when
 * there is one (sqlite-direct.ts): `getByDid` (every authenticated request checks the caller's account)
 * and the takedown lookups (every record and blob read checks its subject).
 */
import type { AccountRow } from '@next-atproto/core'
import { PrismaAccountStore, toAccount } from './accounts.js'
import type { PrismaClientLike } from './client.js'
import { type ModerationClientLike, PrismaTakedownStore } from './moderation.js'
import { dateOf, type SqliteDirect } from './sqlite-direct.js'

const BY_DID =
  'SELECT did, handle, email, emailConfirmedAt, passwordHash, signingKey, status, createdAt, deactivatedAt FROM atproto_account WHERE did = ?'

type AccountSqlRow = Omit<AccountRow, 'emailConfirmedAt' | 'createdAt' | 'deactivatedAt'> & {
  emailConfirmedAt: unknown
  createdAt: unknown
  deactivatedAt: unknown
}

const optionalDate = (v: unknown) => (v === null || v === undefined ? null : dateOf(v))

/** {@link PrismaAccountStore} whose `getByDid` reads through the direct connection. */
export class SqliteAccountStore extends PrismaAccountStore {
  #direct: SqliteDirect | null | undefined

  constructor(
    db: PrismaClientLike,
    private readonly ready: Promise<SqliteDirect | null>,
  ) {
    super(db)
  }

  override async getByDid(did: string): Promise<AccountRow | null> {
    if (this.#direct === undefined) this.#direct = await this.ready
    if (!this.#direct) return super.getByDid(did)
    const r = await this.#direct.writer.get<AccountSqlRow>(BY_DID, did)
    if (!r) return null
    return toAccount({
      ...r,
      emailConfirmedAt: optionalDate(r.emailConfirmedAt),
      createdAt: dateOf(r.createdAt),
      deactivatedAt: optionalDate(r.deactivatedAt),
    })
  }
}

const TAKEDOWN = 'SELECT subject, ref, createdAt FROM atproto_takedown WHERE subject = ?'
const TAKEDOWNS = 'SELECT subject FROM atproto_takedown WHERE subject IN (SELECT value FROM json_each(?))'

/** {@link PrismaTakedownStore} whose reads go through the direct connection. */
export class SqliteTakedownStore extends PrismaTakedownStore {
  #direct: SqliteDirect | null | undefined

  constructor(
    db: ModerationClientLike,
    private readonly ready: Promise<SqliteDirect | null>,
  ) {
    super(db)
  }

  async #get(): Promise<SqliteDirect | null> {
    if (this.#direct === undefined) this.#direct = await this.ready
    return this.#direct
  }

  override async get(subject: string) {
    const direct = await this.#get()
    if (!direct) return super.get(subject)
    const row = await direct.writer.get<{ subject: string; ref: string; createdAt: unknown }>(
      TAKEDOWN,
      subject,
    )
    return row ? { subject: row.subject, ref: row.ref, createdAt: dateOf(row.createdAt) } : null
  }

  override async filter(subjects: string[]) {
    const direct = await this.#get()
    if (!direct) return super.filter(subjects)
    if (subjects.length === 0) return []
    const rows = await direct.writer.all<{ subject: string }>(TAKEDOWNS, JSON.stringify(subjects))
    const hit = new Set(rows.map((r) => r.subject))
    return subjects.filter((s) => hit.has(s))
  }
}
