import { type BlobMetaStore, type BlobRow, CID, type RateLimitStore } from '@next-atproto/core'
import { type PrismaClientLike, type PrismaProvider, prismaCode } from './client.js'
import { ident, insertIgnore, param } from './sql.js'

const toBlob = (r: any): BlobRow => ({ ...r, cid: CID.parse(r.cid) })

/** Blob metadata and record references over Prisma. */
export class PrismaBlobMetaStore implements BlobMetaStore {
  constructor(private readonly db: PrismaClientLike) {}

  async track(row: Omit<BlobRow, 'createdAt' | 'takedown'>) {
    try {
      await this.db.atprotoBlob.create({ data: { ...row, cid: row.cid.toString() } })
    } catch (err) {
      if (prismaCode(err) !== 'P2002') throw err // re-upload of a known blob
    }
  }

  async get(did: string, cid: CID) {
    const r = await this.db.atprotoBlob.findUnique({ where: { did_cid: { did, cid: cid.toString() } } })
    return r ? toBlob(r) : null
  }

  async addRefs(did: string, recordUri: string, cids: CID[]) {
    if (cids.length === 0) return
    await this.db.$transaction(async (tx) => {
      for (const cid of cids) {
        const key = { did, cid: cid.toString(), recordUri }
        await tx.atprotoBlobRef.upsert({ where: { did_cid_recordUri: key }, create: key, update: {} })
      }
      await tx.atprotoBlob.updateMany({
        where: { did, cid: { in: cids.map(String) } },
        data: { tempKey: null },
      })
    })
  }

  async removeRefs(did: string, recordUri: string) {
    return this.db.$transaction(async (tx) => {
      const refs = await tx.atprotoBlobRef.findMany({ where: { did, recordUri }, select: { cid: true } })
      await tx.atprotoBlobRef.deleteMany({ where: { did, recordUri } })
      const orphaned: CID[] = []
      for (const { cid } of refs) {
        if ((await tx.atprotoBlobRef.count({ where: { did, cid } })) === 0) orphaned.push(CID.parse(cid))
      }
      return orphaned
    })
  }

  async list(did: string, { limit, cursor }: { limit: number; cursor?: string }) {
    const rows = await this.db.atprotoBlob.findMany({
      where: { did, tempKey: null, ...(cursor === undefined ? {} : { cid: { gt: cursor } }) },
      orderBy: { cid: 'asc' },
      take: limit,
      select: { cid: true },
    })
    return rows.map((r) => CID.parse(r.cid))
  }

  async listMissing(did: string, { limit, cursor }: { limit: number; cursor?: string }) {
    const refs = await this.db.atprotoBlobRef.findMany({
      where: { did, ...(cursor === undefined ? {} : { cid: { gt: cursor } }) },
      orderBy: { cid: 'asc' },
    })
    const out: Array<{ cid: CID; recordUri: string }> = []
    for (const ref of refs) {
      if (out.length >= limit) break
      if (out.at(-1)?.cid.toString() === ref.cid) continue
      if (await this.db.atprotoBlob.findUnique({ where: { did_cid: { did, cid: ref.cid } } })) continue
      out.push({ cid: CID.parse(ref.cid), recordUri: ref.recordUri })
    }
    return out
  }

  async listStaleTemp(before: Date, limit: number) {
    const rows = await this.db.atprotoBlob.findMany({
      where: { tempKey: { not: null }, createdAt: { lt: before } },
      take: limit,
    })
    return rows.map(toBlob)
  }

  async delete(did: string, cids: CID[]) {
    await this.db.atprotoBlob.deleteMany({ where: { did, cid: { in: cids.map(String) } } })
  }

  async hasRefs(did: string, cid: CID) {
    return (await this.db.atprotoBlobRef.count({ where: { did, cid: cid.toString() } })) > 0
  }

  async setTakedown(did: string, cid: CID, takedown: boolean) {
    await this.db.atprotoBlob.updateMany({ where: { did, cid: cid.toString() }, data: { takedown } })
  }
}

/** Fixed-window rate-limit counters over Prisma. */
export class PrismaRateLimits implements RateLimitStore {
  constructor(
    private readonly db: PrismaClientLike,
    private readonly provider: PrismaProvider,
  ) {}

  async hit(key: string, windowMs: number) {
    const { provider } = this
    return this.db.$transaction(async (tx) => {
      // Make sure the row exists and lock it (SQLite: the single writer already serializes us). MySQL:
      // an upsert takes the exclusive lock directly; INSERT IGNORE + FOR UPDATE deadlocks there.
      if (provider === 'mysql') {
        await tx.$executeRawUnsafe(
          'INSERT INTO atproto_rate_limit (`key`, `count`, `resetAt`) VALUES (?, 0, ?) ON DUPLICATE KEY UPDATE `count` = `count`',
          key,
          new Date(0),
        )
      } else {
        await insertIgnore(
          tx,
          provider,
          'atproto_rate_limit',
          ['key', 'count', 'resetAt'],
          [[key, 0, new Date(0)]],
        )
      }
      if (provider === 'postgresql') {
        await tx.$queryRawUnsafe(
          `SELECT ${ident(provider, 'key')} FROM atproto_rate_limit WHERE ${ident(provider, 'key')} = ${param(provider, 1)} FOR UPDATE`,
          key,
        )
      }
      const now = new Date()
      const row = await tx.atprotoRateLimit.findUnique({ where: { key } })
      const expired = row.resetAt <= now
      const data = expired
        ? { count: 1, resetAt: new Date(now.getTime() + windowMs) }
        : { count: row.count + 1 }
      const updated = await tx.atprotoRateLimit.update({ where: { key }, data })
      return { count: updated.count as number, resetAt: updated.resetAt as Date }
    })
  }
}
