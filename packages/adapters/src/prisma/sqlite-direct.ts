/**
 * Direct SQLite connections for the repository and firehose hot paths, next to the app's Prisma client.
 *
 * Prisma's query layer costs about 0.2-0.5 ms per statement here, and a commit is six or more of them;
 * better-sqlite3 runs the same prepared statement in a few microseconds. When the app's client is built
 * on `@prisma/adapter-better-sqlite3`, the adapter opens its own connections to the same file through
 * that driver adapter factory (same file, same options, same timestamp format) and runs commits, record
 * and block reads and the event log on them. Everything else stays on Prisma.
 *
 * Why this is safe next to Prisma's own connection in the same process:
 * - A write is one **synchronous** block (`BEGIN IMMEDIATE` ... `COMMIT`): no other code of the process
 *   runs while the lock is held, so nothing can see a half-written commit and no synchronous statement
 *   of Prisma's connection ever waits on our lock (which would freeze the event loop). Repo commits
 *   collect their writes in memory and flush them in such a block (sqlite-repo.ts).
 * - Our connections never wait inside SQLite (busy timeout 0): when another connection holds the write
 *   lock (an open Prisma interactive transaction, another process), the write backs off on a timer and
 *   tries again, so the lock holder can finish. Writes also queue behind this process's own Prisma
 *   transactions (the process-wide writer queue of serialize.ts) so they rarely meet a lock at all.
 * - Multi-statement reads take a read transaction on a pooled reader connection, only in WAL mode
 *   (where readers never block writers). In rollback-journal mode a read transaction held across awaits
 *   would make a synchronous writer on another connection wait, so those reads stay on Prisma.
 */
import { ConcurrentWriteError } from '@next-atproto/core'
import { sqliteWriterLock } from './serialize.js'
import { SqliteCheckpointer } from './sqlite-checkpointer.js'

/** The part of a better-sqlite3 statement used here. */
export interface SqliteStatement {
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint }
  get(...params: unknown[]): unknown
  all(...params: unknown[]): unknown[]
}

/** The part of a better-sqlite3 `Database` used here. */
interface SqliteDatabase {
  prepare(sql: string): SqliteStatement
  close(): void
  defaultSafeIntegers(toggle?: boolean): unknown
  readonly name: string
  readonly memory: boolean
  readonly inTransaction: boolean
}

/** A connection of `@prisma/adapter-better-sqlite3` (its `client` is the better-sqlite3 Database). */
interface ConnectedAdapter {
  client?: unknown
  adapterOptions?: { timestampFormat?: string }
  dispose?(): Promise<void>
}

/** The driver adapter factory Prisma 7 keeps in the client's engine config. */
interface AdapterFactory {
  provider?: string
  adapterName?: string
  connect(): Promise<ConnectedAdapter>
}

/** One connection with its prepared statements (prepared once, on first use). */
export class SqliteConn {
  readonly #statements = new Map<string, SqliteStatement>()

  constructor(
    readonly db: SqliteDatabase,
    readonly adapter: ConnectedAdapter,
  ) {}

  /** The prepared statement for `sql`. */
  sql(sql: string): SqliteStatement {
    let stmt = this.#statements.get(sql)
    if (!stmt) {
      stmt = this.db.prepare(sql)
      this.#statements.set(sql, stmt)
    }
    return stmt
  }

  /**
   * Run a read statement. A lock held by another process (rollback-journal mode: its commit in
   * progress) is waited for on a timer, never inside SQLite.
   */
  get<T>(sql: string, ...params: unknown[]): Promise<T | undefined> {
    return this.#read(() => this.sql(sql).get(...params) as T | undefined)
  }

  /** {@link get} for every row. */
  all<T>(sql: string, ...params: unknown[]): Promise<T[]> {
    return this.#read(() => this.sql(sql).all(...params) as T[])
  }

  async #read<T>(run: () => T): Promise<T> {
    const deadline = Date.now() + LOCK_WAIT_MS
    for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
      try {
        return run()
      } catch (err) {
        if (!isBusy(err) || Date.now() > deadline) throw err
      }
      await sleep(wait)
    }
  }

  async close(): Promise<void> {
    this.#statements.clear()
    if (this.adapter.dispose) await this.adapter.dispose()
    else this.db.close()
  }
}

const isBusy = (err: unknown) => {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** How long a write keeps retrying a lock held elsewhere before it gives up. */
const LOCK_WAIT_MS = 30_000
/** Idle reader connections kept open. */
const IDLE_READERS = 4

/** The direct connections of one adapter: one writer (also used for single-statement reads) and readers. */
export class SqliteDirect {
  readonly #factory: AdapterFactory
  readonly #idle: SqliteConn[] = []
  readonly #unixMs: boolean
  #closed = false
  /** Background WAL checkpoints (sqlite-checkpointer.ts); undefined until the first write in WAL mode. */
  #checkpointer: SqliteCheckpointer | null | undefined
  #autoCheckpoint: number | undefined
  #warned = false

  private constructor(
    factory: AdapterFactory,
    /** Writes, and reads that are a single statement (one statement is one snapshot). */
    readonly writer: SqliteConn,
    timestampFormat: string | undefined,
  ) {
    this.#factory = factory
    this.#unixMs = timestampFormat === 'unixepoch-ms'
  }

  /**
   * Open direct connections for `client` when it is built on `@prisma/adapter-better-sqlite3` over a
   * file; null otherwise (another driver, an in-memory database, an unrecognised Prisma version), and
   * the caller stays on Prisma. The factory is a Prisma internal, hence the shape checks.
   */
  static async open(client: unknown): Promise<SqliteDirect | null> {
    const factory = (client as { _engineConfig?: { adapter?: AdapterFactory } } | null)?._engineConfig
      ?.adapter
    if (
      factory?.provider !== 'sqlite' ||
      factory.adapterName !== '@prisma/adapter-better-sqlite3' ||
      typeof factory.connect !== 'function'
    )
      return null
    const writer = await connect(factory!)
    if (!writer) return null
    // A second connection to ":memory:" would be another, empty database.
    if (writer.db.memory || writer.db.name === '' || writer.db.name.includes(':memory:')) {
      await writer.close()
      return null
    }
    const format = writer.adapter.adapterOptions?.timestampFormat
    return new SqliteDirect(factory, writer, format)
  }

  /** Whether a worker thread checkpoints the WAL (sqlite-checkpointer.ts). */
  get backgroundCheckpoints(): boolean {
    return this.#checkpointer?.active === true
  }

  /** A DateTime value as Prisma's adapter stores it (its `timestampFormat`). */
  time(date: Date): string | number {
    return this.#unixMs ? date.getTime() : date.toISOString().replace('Z', '+00:00')
  }

  /** Whether the file is in WAL mode (readers on other connections never block writers). */
  isWal(): boolean {
    const row = this.writer.sql('PRAGMA journal_mode').get() as { journal_mode?: string } | undefined
    return row?.journal_mode?.toLowerCase() === 'wal'
  }

  /**
   * Run `fn` synchronously in one write transaction on the writer connection. `fn` may run more than
   * once (after a lock held elsewhere), so it must only issue statements. Throws
   * {@link ConcurrentWriteError} when the lock stays taken for 30 s.
   */
  async write<T>(fn: (conn: SqliteConn) => T): Promise<T> {
    return sqliteWriterLock().run('sqlite', async () => {
      const deadline = Date.now() + LOCK_WAIT_MS
      for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
        let out: T
        try {
          out = this.#writeOnce(fn)
        } catch (err) {
          if (!isBusy(err)) throw err
          if (Date.now() > deadline) {
            throw new ConcurrentWriteError('The SQLite database stayed locked by another writer for 30 s', {
              cause: err,
            })
          }
          await sleep(wait)
          continue
        }
        // Committed: nothing after this point may fail the write (or, worse, run it again).
        this.#afterWrite()
        return out
      }
    })
  }

  /** Checkpoint bookkeeping after a commit; never throws (checkpoints are an optimisation). */
  #afterWrite(): void {
    try {
      this.#checkpoint()
    } catch (err) {
      if (!this.#warned) console.warn('next-atproto: SQLite WAL checkpoint failed', err)
      this.#warned = true
    }
  }

  #checkpoint(): void {
    if (this.#checkpointer === undefined) {
      if (!this.isWal()) return
      const { writer } = this
      this.#autoCheckpoint = Number(
        (writer.sql('PRAGMA wal_autocheckpoint').get() as { wal_autocheckpoint: number }).wal_autocheckpoint,
      )
      this.#checkpointer = SqliteCheckpointer.start(writer.db.name, (active) => {
        // The worker runs the checkpoints while it is up; SQLite's own ones come back if it dies.
        if (!this.#closed)
          writer.sql(`PRAGMA wal_autocheckpoint = ${active ? 0 : this.#autoCheckpoint}`).get()
      })
    }
    if (this.#checkpointer?.kick()) this.writer.sql('PRAGMA wal_checkpoint(PASSIVE)').get()
  }

  #writeOnce<T>(fn: (conn: SqliteConn) => T): T {
    const { writer } = this
    writer.sql('BEGIN IMMEDIATE').run()
    try {
      const out = fn(writer)
      writer.sql('COMMIT').run()
      return out
    } catch (err) {
      if (writer.db.inTransaction) writer.sql('ROLLBACK').run()
      throw err
    }
  }

  /**
   * Run `fn` in one read transaction (one snapshot across its awaits) on a pooled reader connection.
   * WAL mode only (see the file comment); callers check {@link isWal} first.
   */
  async snapshot<T>(fn: (conn: SqliteConn) => Promise<T>): Promise<T> {
    const conn = this.#idle.pop() ?? (await connect(this.#factory))
    if (!conn) throw new Error('SQLite: could not open a reader connection')
    conn.sql('BEGIN').run()
    try {
      return await fn(conn)
    } finally {
      if (conn.db.inTransaction) conn.sql('COMMIT').run()
      if (!this.#closed && this.#idle.length < IDLE_READERS) this.#idle.push(conn)
      else await conn.close()
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#checkpointer?.close()
    for (const conn of this.#idle.splice(0)) await conn.close()
    await this.writer.close()
  }
}

async function connect(factory: AdapterFactory): Promise<SqliteConn | null> {
  const adapter = await factory.connect()
  const db = adapter.client as SqliteDatabase | undefined
  if (!db || typeof db.prepare !== 'function' || typeof db.defaultSafeIntegers !== 'function') {
    await adapter.dispose?.()
    return null
  }
  db.defaultSafeIntegers(false) // Prisma's connections return bigints; ours want numbers
  const conn = new SqliteConn(db, adapter)
  // Never wait inside SQLite: a wait there blocks the event loop (see the file comment).
  conn.sql('PRAGMA busy_timeout = 0').get()
  return conn
}

/** A BLOB column value as a plain Uint8Array view (better-sqlite3 returns Buffers). */
export function bytesOf(value: unknown): Uint8Array {
  const b = value as Uint8Array
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}

/** A DateTime column value (ISO text or epoch milliseconds, as Prisma's adapter writes it) as a Date. */
export function dateOf(value: unknown): Date {
  if (typeof value === 'number' || typeof value === 'bigint') return new Date(Number(value))
  const text = String(value)
  // SQLite's CURRENT_TIMESTAMP form (a column default) is UTC without a zone designator.
  return new Date(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(text) ? `${text.replace(' ', 'T')}Z` : text)
}
