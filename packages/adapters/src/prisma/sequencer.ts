import type { SeqInsert, SeqRow, SequencerStore } from '@next-atproto/core'
import type { PrismaClientLike, PrismaProvider, PrismaTx } from './client.js'
import { type PgListener, SEQ_CHANNEL, SqliteChangeWatcher } from './notify.js'

const SEQ_LOCK_KEY = 7_262_026 // PostgreSQL advisory lock id of the firehose log
/** Events deleted per statement when pruning. */
const PRUNE_BATCH = 1000

/**
 * Take the log's append lock inside the current transaction: appends then commit one after the
 * other, so a reader can never see seq N+1 while N is still uncommitted (no gaps visible to readers).
 * SQLite has a single writer, which already gives that order. Callers append events right after, so on
 * PostgreSQL this also queues the NOTIFY that wakes the other processes' firehoses: PostgreSQL delivers
 * it when the transaction commits (never for a rollback), and folds repeats within one transaction.
 * (PLC directory writes take this lock too; their notification is a spurious wake, which watchers allow.)
 */
export async function lockSequencer(db: PrismaTx, provider: PrismaProvider): Promise<void> {
  if (provider === 'postgresql') {
    await db.$executeRawUnsafe(
      `SELECT pg_advisory_xact_lock(${SEQ_LOCK_KEY}), pg_notify('${SEQ_CHANNEL}', '')`,
    )
  } else if (provider === 'mysql') {
    // An upsert takes the row's exclusive lock at once (INSERT IGNORE + FOR UPDATE would deadlock:
    // two transactions holding shared locks both waiting to upgrade).
    await db.$executeRawUnsafe('INSERT INTO atproto_seq_lock (id) VALUES (1) ON DUPLICATE KEY UPDATE id = id')
  }
}

const toRow = (r: { seq: number; did: string; type: string; body: Uint8Array; time: Date }): SeqRow => ({
  seq: r.seq,
  did: r.did,
  type: r.type as SeqRow['type'],
  body: new Uint8Array(r.body),
  time: r.time,
})

/**
 * Retention in batches of {@link PRUNE_BATCH}: `find` lists the seqs of old events below `newest` (seq
 * order), `remove` deletes a seq range of them, re-checking the time (the caller's filter), until none is
 * left. The newest event always stays, so the log's position survives. Shared by both log stores.
 */
export async function pruneInBatches(
  newest: number | null,
  find: (newest: number, limit: number) => Promise<number[]>,
  remove: (from: number, to: number) => Promise<number>,
): Promise<number> {
  if (newest === null) return 0
  let total = 0
  for (;;) {
    const seqs = await find(newest, PRUNE_BATCH)
    if (seqs.length === 0) return total
    total += await remove(seqs[0]!, seqs.at(-1)!)
    if (seqs.length < PRUNE_BATCH) return total
  }
}

/** The firehose log over Prisma. */
export class PrismaSequencer implements SequencerStore {
  readonly #listeners = new Set<() => void>()
  /**
   * Cross-process wake-ups: LISTEN/NOTIFY on PostgreSQL (when a LISTEN connection is configured), a
   * `PRAGMA data_version` check every 100 ms on SQLite; MySQL has neither and is polled.
   */
  readonly watch?: (onWake: () => void) => () => void
  readonly #sqliteWatcher?: SqliteChangeWatcher

  constructor(
    private readonly client: PrismaClientLike,
    private readonly provider: PrismaProvider,
    listener?: PgListener,
  ) {
    if (listener) this.watch = (onWake) => listener.watch(onWake)
    else if (provider === 'sqlite') {
      const watcher = new SqliteChangeWatcher(async () => {
        const rows =
          await client.$queryRawUnsafe<Array<{ data_version: number | bigint }>>('PRAGMA data_version')
        return Number(rows[0]!.data_version)
      })
      this.#sqliteWatcher = watcher
      this.watch = (onWake) => watcher.watch(onWake)
    }
  }

  /** Stop the change check (adapter close). */
  close(): void {
    this.#sqliteWatcher?.close()
  }

  async append(events: SeqInsert[]): Promise<number[]> {
    if (events.length === 0) return []
    const rows = await this.client.$transaction(async (db) => {
      await lockSequencer(db, this.provider)
      const out = []
      for (const e of events) out.push(await db.atprotoSeqEvent.create({ data: e, select: { seq: true } }))
      return out
    })
    this.notify()
    return rows.map((r) => r.seq)
  }

  async range({ after = 0, limit }: { after?: number; limit: number }): Promise<SeqRow[]> {
    // Raw SQL: the firehose's hot read (backfill and every live wake-up). The query builder costs about
    // twice as much per row here; the driver adapters already return number/Uint8Array/Date.
    const p = (n: number) => (this.provider === 'postgresql' ? `$${n}` : '?')
    const rows = await this.client.$queryRawUnsafe<
      Array<{ seq: number | bigint; did: string; type: string; body: Uint8Array; time: Date | string }>
    >(
      `SELECT seq, did, type, body, time FROM atproto_seq_event WHERE seq > ${p(1)} ORDER BY seq LIMIT ${p(2)}`,
      after,
      limit,
    )
    return rows.map((r) => toRow({ ...r, seq: Number(r.seq), time: new Date(r.time) }))
  }

  async earliestAfter(time: Date): Promise<number | null> {
    const row = await this.client.atprotoSeqEvent.findFirst({
      where: { time: { gt: time } },
      orderBy: { seq: 'asc' },
      select: { seq: true },
    })
    return row?.seq ?? null
  }

  async latest(): Promise<number | null> {
    const row = await this.client.atprotoSeqEvent.findFirst({
      orderBy: { seq: 'desc' },
      select: { seq: true },
    })
    return row?.seq ?? null
  }

  async earliest(): Promise<number | null> {
    const row = await this.client.atprotoSeqEvent.findFirst({
      orderBy: { seq: 'asc' },
      select: { seq: true },
    })
    return row?.seq ?? null
  }

  /**
   * Retention: delete in batches of {@link PRUNE_BATCH} so no statement holds long locks on the log or
   * builds a huge transaction; each batch is one delete over a primary-key range (found through the
   * `time` index), re-checking `time` because `time` is only roughly in seq order (PostgreSQL's now()
   * is the transaction's start). The newest event always stays, so the log's position survives.
   */
  async deleteBefore(before: Date): Promise<number> {
    return pruneInBatches(
      await this.latest(),
      async (newest, limit) => {
        const rows: Array<{ seq: number }> = await this.client.atprotoSeqEvent.findMany({
          where: { time: { lt: before }, seq: { lt: newest } },
          orderBy: { seq: 'asc' },
          take: limit,
          select: { seq: true },
        })
        return rows.map((r) => r.seq)
      },
      async (from, to) =>
        (
          await this.client.atprotoSeqEvent.deleteMany({
            where: { seq: { gte: from, lte: to }, time: { lt: before } },
          })
        ).count,
    )
  }

  /** In-process wake-up after appends (other processes poll or use a LISTEN notifier). */
  onAppend(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Wake listeners (called after a commit that sequenced events). */
  notify(): void {
    for (const l of this.#listeners) l()
  }
}
