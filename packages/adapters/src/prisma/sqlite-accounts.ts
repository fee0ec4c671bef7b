/**
 * Accounts over Prisma, with the per-request read (`getByDid`: every authenticated request checks the
 * caller's account) on the direct SQLite connection when there is one (sqlite-direct.ts).
 */
import type { AccountRow } from '@next-atproto/core'
import { PrismaAccountStore } from './accounts.js'
import type { PrismaClientLike } from './client.js'
import { bytesOf, dateOf, type SqliteDirect } from './sqlite-direct.js'

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
    return {
      did: r.did,
      handle: r.handle,
      email: r.email,
      emailConfirmedAt: optionalDate(r.emailConfirmedAt),
      passwordHash: r.passwordHash,
      signingKey: new Uint8Array(bytesOf(r.signingKey)),
      status: r.status,
      createdAt: dateOf(r.createdAt),
      deactivatedAt: optionalDate(r.deactivatedAt),
    }
  }
}
