/** Takedowns and host-user links over Prisma (models of prisma/accounts.prisma, migration 0004). */
import { type HostUserStore, type TakedownStore, UniqueConstraintError } from '@next-atproto/core'
import { type Delegate, prismaCode } from './client.js'

/** The delegates these stores use (structural, see client.ts). */
export interface ModerationClientLike {
  atprotoTakedown: Delegate
  atprotoHostUser: Delegate
}

/** True when the client was generated from a fragment that has the takedown and host-user models. */
export function hasModerationModels(client: object): client is ModerationClientLike {
  return 'atprotoTakedown' in client && 'atprotoHostUser' in client
}

/** Takedowns over Prisma. */
export class PrismaTakedownStore implements TakedownStore {
  constructor(private readonly db: ModerationClientLike) {}

  async put(subject: string, ref: string) {
    await this.db.atprotoTakedown.upsert({
      where: { subject },
      create: { subject, ref },
      update: { ref, createdAt: new Date() },
    })
  }

  async remove(subject: string) {
    await this.db.atprotoTakedown.deleteMany({ where: { subject } })
  }

  async get(subject: string) {
    const row = await this.db.atprotoTakedown.findUnique({ where: { subject } })
    return row ? { subject: row.subject, ref: row.ref, createdAt: row.createdAt } : null
  }

  async filter(subjects: string[]) {
    if (subjects.length === 0) return []
    const rows = await this.db.atprotoTakedown.findMany({
      where: { subject: { in: subjects } },
      select: { subject: true },
    })
    const hit = new Set(rows.map((r: { subject: string }) => r.subject))
    return subjects.filter((s) => hit.has(s))
  }
}

/** Host-user links over Prisma. */
export class PrismaHostUserStore implements HostUserStore {
  constructor(private readonly db: ModerationClientLike) {}

  async link(userId: string, did: string) {
    try {
      await this.db.atprotoHostUser.create({ data: { userId, did } })
    } catch (err) {
      if (prismaCode(err) !== 'P2002') throw err
      // Which constraint fired is in the driver's metadata; ask the table when it does not say.
      const byUser = await this.db.atprotoHostUser.findUnique({ where: { userId } })
      throw new UniqueConstraintError(byUser ? 'userId' : 'did')
    }
  }

  async getDid(userId: string) {
    const row = await this.db.atprotoHostUser.findUnique({ where: { userId } })
    return row ? (row.did as string) : null
  }

  async getUserId(did: string) {
    const row = await this.db.atprotoHostUser.findUnique({ where: { did } })
    return row ? (row.userId as string) : null
  }

  async unlink(did: string) {
    await this.db.atprotoHostUser.deleteMany({ where: { did } })
  }
}
