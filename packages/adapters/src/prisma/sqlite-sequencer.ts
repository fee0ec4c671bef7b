/**
 * The firehose log on the direct SQLite connections (sqlite-direct.ts), over the Prisma table. SQLite
 * has a single writer, so sequence numbers are assigned and become visible in commit order.
 */
import type { SeqInsert, SeqRow, SequencerStore } from '@next-atproto/core'
import { SqliteChangeWatcher } from './notify.js'
import { pruneInBatches } from './sequencer.js'
import { bytesOf, dateOf, type SqliteDirect } from './sqlite-direct.js'

const SQL = {
  append: 'INSERT INTO atproto_seq_event (did, type, body, time) VALUES (?, ?, ?, ?)',
  range: 'SELECT seq, did, type, body, time FROM atproto_seq_event WHERE seq > ? ORDER BY seq LIMIT ?',
  after: 'SELECT seq FROM atproto_seq_event WHERE time > ? ORDER BY seq LIMIT 1',
  latest: 'SELECT max(seq) AS seq FROM atproto_seq_event',
  earliest: 'SELECT min(seq) AS seq FROM atproto_seq_event',
  old: 'SELECT seq FROM atproto_seq_event WHERE time < ? AND seq < ? ORDER BY seq LIMIT ?',
  prune: 'DELETE FROM atproto_seq_event WHERE seq >= ? AND seq <= ? AND time < ?',
  version: 'PRAGMA data_version',
} as const

type EventSqlRow = { seq: number; did: string; type: string; body: Uint8Array; time: unknown }

/**
 * The firehose log on direct connections, or on `fallback` (the Prisma log) when the database cannot be
 * served directly; wake-ups of other processes through `PRAGMA data_version`.
 */
export class SqliteSequencer implements SequencerStore {
  readonly #listeners = new Set<() => void>()
  #direct: SqliteDirect | null | undefined
  #watcher: SqliteChangeWatcher | undefined
  #closed = false

  constructor(
    private readonly ready: Promise<SqliteDirect | null>,
    private readonly fallback: SequencerStore & { close(): void },
  ) {
    fallback.onAppend?.(() => this.notify())
  }

  async #get(): Promise<SqliteDirect | null> {
    if (this.#direct === undefined) this.#direct = await this.ready
    return this.#direct
  }

  watch(onWake: () => void): () => void {
    let stop: (() => void) | undefined
    let stopped = false
    void this.#get().then((direct) => {
      if (stopped || this.#closed) return
      if (!direct) {
        stop = this.fallback.watch?.(onWake)
        return
      }
      // data_version of a connection changes when *another* connection commits: our own appends wake
      // listeners in process (notify); this catches other processes (and Prisma's connection).
      this.#watcher ??= new SqliteChangeWatcher(async () => {
        const row = await direct.writer.get<{ data_version: number }>(SQL.version)
        return Number(row!.data_version)
      })
      stop = this.#watcher.watch(onWake)
    })
    return () => {
      stopped = true
      stop?.()
    }
  }

  close(): void {
    this.#closed = true
    this.#watcher?.close()
    this.fallback.close()
  }

  async append(events: SeqInsert[]): Promise<number[]> {
    const direct = await this.#get()
    if (!direct) return this.fallback.append(events) // the fallback's listener wakes ours
    if (events.length === 0) return []
    const seqs = await direct.write((w) => {
      const stmt = w.sql(SQL.append)
      const time = direct.time(new Date())
      return events.map((e) => Number(stmt.run(e.did, e.type, e.body, time).lastInsertRowid))
    })
    this.notify()
    return seqs
  }

  async range(opts: { after?: number; limit: number }): Promise<SeqRow[]> {
    const direct = await this.#get()
    if (!direct) return this.fallback.range(opts)
    const rows = await direct.writer.all<EventSqlRow>(SQL.range, opts.after ?? 0, opts.limit)
    return rows.map((r) => ({
      seq: r.seq,
      did: r.did,
      type: r.type as SeqRow['type'],
      body: bytesOf(r.body),
      time: dateOf(r.time),
    }))
  }

  async earliestAfter(time: Date): Promise<number | null> {
    const direct = await this.#get()
    if (!direct) return this.fallback.earliestAfter!(time)
    const row = await direct.writer.get<{ seq: number }>(SQL.after, direct.time(time))
    return row?.seq ?? null
  }

  async latest(): Promise<number | null> {
    const direct = await this.#get()
    if (!direct) return this.fallback.latest()
    return (await direct.writer.get<{ seq: number | null }>(SQL.latest))!.seq
  }

  async earliest(): Promise<number | null> {
    const direct = await this.#get()
    if (!direct) return this.fallback.earliest()
    return (await direct.writer.get<{ seq: number | null }>(SQL.earliest))!.seq
  }

  /** Retention in batches (one short write each); the newest event always stays. */
  async deleteBefore(before: Date): Promise<number> {
    const direct = await this.#get()
    if (!direct) return this.fallback.deleteBefore(before)
    const cutoff = direct.time(before)
    return pruneInBatches(
      await this.latest(),
      async (newest, limit) =>
        (await direct.writer.all<{ seq: number }>(SQL.old, cutoff, newest, limit)).map((r) => r.seq),
      (from, to) => direct.write((w) => w.sql(SQL.prune).run(from, to, cutoff).changes),
    )
  }

  onAppend(listener: () => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Wake listeners (after a commit of this process that sequenced events). */
  notify(): void {
    for (const l of this.#listeners) l()
  }
}
