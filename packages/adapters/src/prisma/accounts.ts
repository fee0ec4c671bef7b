import {
  type AccountRow,
  type AccountStore,
  type AppPasswordRow,
  HandleTakenError,
  type RefreshTokenRow,
  UniqueConstraintError,
} from '@next-atproto/core'
import { type PrismaClientLike, prismaCode } from './client.js'

/** An account row as the driver returns it (dates as Dates, bytes as a byte array) to the store's row. */
export const toAccount = (r: any): AccountRow => ({
  did: r.did,
  handle: r.handle,
  email: r.email,
  emailConfirmedAt: r.emailConfirmedAt,
  passwordHash: r.passwordHash,
  signingKey: new Uint8Array(r.signingKey),
  status: r.status,
  createdAt: r.createdAt,
  deactivatedAt: r.deactivatedAt,
})

/**
 * Map a unique-constraint violation to the storage error naming the field ({@link HandleTakenError}
 * for the handle, which the services turn into the XRPC HandleNotAvailable error).
 */
async function unique<T>(fields: string[], run: () => Promise<T>, handle?: string): Promise<T> {
  try {
    return await run()
  } catch (err) {
    if (prismaCode(err) !== 'P2002') throw err
    // The driver's constraint (fields or index name) is in `meta`; the message also quotes the calling
    // code (which names every field), so it must not be searched.
    const target = JSON.stringify((err as { meta?: unknown }).meta ?? '')
    const field = fields.find((f) => target.includes(f)) ?? fields[0]!
    throw field === 'handle' && handle !== undefined
      ? new HandleTakenError(handle)
      : new UniqueConstraintError(field)
  }
}

/** Accounts, sessions and tokens over Prisma. */
export class PrismaAccountStore implements AccountStore {
  constructor(private readonly db: PrismaClientLike) {}

  async create(row: Omit<AccountRow, 'createdAt' | 'deactivatedAt' | 'emailConfirmedAt'>) {
    if (await this.db.atprotoAccount.findUnique({ where: { did: row.did } }))
      throw new UniqueConstraintError('did')
    await unique(['handle', 'email', 'did'], () => this.db.atprotoAccount.create({ data: row }), row.handle)
  }

  async getByDid(did: string) {
    const r = await this.db.atprotoAccount.findUnique({ where: { did } })
    return r ? toAccount(r) : null
  }

  async getByHandle(handle: string) {
    const r = await this.db.atprotoAccount.findUnique({ where: { handle } })
    return r ? toAccount(r) : null
  }

  async getByEmail(email: string) {
    const r = await this.db.atprotoAccount.findUnique({ where: { email } })
    return r ? toAccount(r) : null
  }

  async list({ limit, cursor }: { limit: number; cursor?: string }) {
    const rows = await this.db.atprotoAccount.findMany({
      where: cursor === undefined ? {} : { did: { gt: cursor } },
      orderBy: { did: 'asc' },
      take: limit,
    })
    return rows.map(toAccount)
  }

  async updateHandle(did: string, handle: string) {
    await unique(
      ['handle'],
      () => this.db.atprotoAccount.updateMany({ where: { did }, data: { handle } }),
      handle,
    )
  }

  async updateEmail(did: string, email: string | null) {
    await unique(['email'], () =>
      this.db.atprotoAccount.updateMany({ where: { did }, data: { email, emailConfirmedAt: null } }),
    )
  }

  async updatePassword(did: string, passwordHash: string) {
    await this.db.atprotoAccount.updateMany({ where: { did }, data: { passwordHash } })
  }

  async updateStatus(did: string, status: AccountRow['status']) {
    await this.db.atprotoAccount.updateMany({
      where: { did },
      data: { status, deactivatedAt: status === 'deactivated' ? new Date() : null },
    })
  }

  async delete(did: string) {
    await this.db.$transaction(async (tx) => {
      await tx.atprotoRefreshToken.deleteMany({ where: { did } })
      await tx.atprotoAppPassword.deleteMany({ where: { did } })
      await tx.atprotoEmailToken.deleteMany({ where: { did } })
      await tx.atprotoAccount.deleteMany({ where: { did } })
    })
  }

  async createRefreshToken(row: RefreshTokenRow) {
    await this.db.atprotoRefreshToken.create({ data: row })
  }

  async getRefreshToken(id: string) {
    return (await this.db.atprotoRefreshToken.findUnique({ where: { id } })) as RefreshTokenRow | null
  }

  async rotateRefreshToken(id: string) {
    // A conditional delete is the compare-and-swap: exactly one concurrent caller removes the row.
    return (await this.db.atprotoRefreshToken.deleteMany({ where: { id, nextId: null } })).count === 1
  }

  async deleteRefreshToken(id: string) {
    await this.db.atprotoRefreshToken.deleteMany({ where: { id } })
  }

  async deleteRefreshTokensForDid(did: string, appPasswordName?: string) {
    await this.db.atprotoRefreshToken.deleteMany({
      where: appPasswordName === undefined ? { did } : { did, appPasswordName },
    })
  }

  async createAppPassword(row: AppPasswordRow) {
    await unique(['name'], () => this.db.atprotoAppPassword.create({ data: row }))
  }

  async listAppPasswords(did: string) {
    return (await this.db.atprotoAppPassword.findMany({
      where: { did },
      orderBy: { createdAt: 'asc' },
    })) as AppPasswordRow[]
  }

  async deleteAppPassword(did: string, name: string) {
    await this.db.atprotoAppPassword.deleteMany({ where: { did, name } })
  }

  async createEmailToken(row: { did: string; purpose: string; token: string; expiresAt: Date }) {
    await this.db.atprotoEmailToken.upsert({
      where: { purpose_token: { purpose: row.purpose, token: row.token } },
      create: row,
      update: { did: row.did, expiresAt: row.expiresAt },
    })
  }

  async consumeEmailToken(purpose: string, token: string) {
    const row = await this.db.atprotoEmailToken.findUnique({ where: { purpose_token: { purpose, token } } })
    if (!row) return null
    // Only the caller whose delete removed the row wins.
    const { count } = await this.db.atprotoEmailToken.deleteMany({ where: { purpose, token } })
    return count === 1 && row.expiresAt.getTime() > Date.now() ? (row.did as string) : null
  }
}
