import { type AnyPlcOperation, PlcConflictError, type PlcLogEntry, type PlcStore } from '@next-atproto/core'
import type { PrismaClientLike, PrismaProvider } from './client.js'
import { lockSequencer } from './sequencer.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

const toEntry = (r: any): PlcLogEntry => ({
  did: r.did,
  operation: JSON.parse(decoder.decode(r.operation)) as AnyPlcOperation,
  cid: r.cid,
  nullified: r.nullified,
  createdAt: r.createdAt,
  seq: r.seq,
})

/** PLC directory operation log over Prisma. */
export class PrismaPlcStore implements PlcStore {
  constructor(
    private readonly db: PrismaClientLike,
    private readonly provider: PrismaProvider,
  ) {}

  async getLog(did: string) {
    const rows = await this.db.atprotoPlcOp.findMany({ where: { did }, orderBy: { seq: 'asc' } })
    return rows.map(toEntry)
  }

  async appendOp(
    did: string,
    entry: { operation: AnyPlcOperation; cid: string; createdAt: Date },
    opts: { nullify: readonly string[]; expectedLastCid: string | null },
  ) {
    const row = await this.db.$transaction(async (tx) => {
      // One global lock keeps the check-then-append atomic across processes (PLC writes are rare).
      await lockSequencer(tx, this.provider)
      const last = await tx.atprotoPlcOp.findFirst({
        where: { did },
        orderBy: { seq: 'desc' },
        select: { cid: true },
      })
      if ((last?.cid ?? null) !== opts.expectedLastCid) throw new PlcConflictError(did)
      if (opts.nullify.length > 0) {
        await tx.atprotoPlcOp.updateMany({
          where: { did, cid: { in: [...opts.nullify] } },
          data: { nullified: true },
        })
      }
      return tx.atprotoPlcOp.create({
        data: {
          did,
          cid: entry.cid,
          operation: encoder.encode(JSON.stringify(entry.operation)),
          createdAt: entry.createdAt,
        },
      })
    })
    return toEntry(row)
  }

  async export({ after, count }: { after?: number | Date; count: number }) {
    const where =
      after instanceof Date ? { createdAt: { gt: after } } : after === undefined ? {} : { seq: { gt: after } }
    const rows = await this.db.atprotoPlcOp.findMany({ where, orderBy: { seq: 'asc' }, take: count })
    return rows.map(toEntry)
  }
}
