/**
 * Cross-process firehose wake-ups on PostgreSQL: every transaction that appends events issues
 * `NOTIFY atproto_seq` (in `lockSequencer`, so it is delivered on commit and never for a rollback), and
 * each process keeps one dedicated `pg` connection that LISTENs and wakes its sequencer. Prisma's pool
 * cannot LISTEN (connections are shared and recycled), hence the separate client, opened with the
 * connection settings of the app's `@prisma/adapter-pg` driver adapter.
 */

/** The NOTIFY channel of the firehose log. */
export const SEQ_CHANNEL = 'atproto_seq'

/** Connection settings of the LISTEN connection: a URL or a `pg` client config. */
export type PgListenConfig = string | Record<string, unknown>

/** The part of a `pg` Client the listener uses. */
interface PgClientLike {
  connect(): Promise<unknown>
  query(sql: string): Promise<unknown>
  end(): Promise<void>
  on(event: 'error', fn: (err: Error) => void): unknown
  on(event: 'end', fn: () => void): unknown
  on(event: 'notification', fn: (msg: { channel: string }) => void): unknown
}

/**
 * The connection settings of a PrismaClient built on `@prisma/adapter-pg` (`new PrismaClient({ adapter:
 * new PrismaPg(config | pool) })`). Prisma 7 keeps the driver adapter factory in the client's engine
 * config, and the factory keeps the pool config it connects with; both are internals, so this is
 * best-effort and returns null when the shape is not recognised (pass `listen` explicitly then).
 */
export function pgConfigOfClient(client: unknown): Record<string, unknown> | null {
  const factory = (client as { _engineConfig?: { adapter?: { config?: unknown } } } | null)?._engineConfig
    ?.adapter
  const config = factory?.config
  if (!config || typeof config !== 'object') return null
  return config as Record<string, unknown>
}

const MIN_RETRY_MS = 100
const MAX_RETRY_MS = 5_000

/** One LISTEN connection shared by the watchers of one adapter; reconnects with backoff after errors. */
export class PgListener {
  readonly #config: PgListenConfig
  readonly #channel: string
  readonly #watchers = new Set<() => void>()
  #client: PgClientLike | null = null
  #retry: ReturnType<typeof setTimeout> | null = null
  #retryMs = MIN_RETRY_MS
  #active = false
  /** Bumped on every close(), so a connect still in flight from before knows it is stale. */
  #generation = 0
  #warned = false

  constructor(config: PgListenConfig, channel = SEQ_CHANNEL) {
    this.#config = config
    this.#channel = channel
  }

  /** Whether the connection is up and listening (for tests and health checks). */
  get listening(): boolean {
    return this.#client !== null
  }

  /** Call `onWake` on every notification (and after each (re)connect); returns the unsubscribe. */
  watch(onWake: () => void): () => void {
    this.#watchers.add(onWake)
    if (!this.#active) {
      this.#active = true
      void this.#connect()
    }
    return () => {
      this.#watchers.delete(onWake)
      if (this.#watchers.size === 0) void this.close()
    }
  }

  /** Drop the connection and stop reconnecting (watchers that call `watch` again reopen it). */
  async close(): Promise<void> {
    this.#active = false
    this.#generation++
    if (this.#retry) clearTimeout(this.#retry)
    this.#retry = null
    const client = this.#client
    this.#client = null
    await client?.end().catch(() => {})
  }

  #wakeAll(): void {
    for (const w of this.#watchers) {
      try {
        w()
      } catch (err) {
        console.error('sequencer: a LISTEN watcher threw', err)
      }
    }
  }

  async #connect(): Promise<void> {
    this.#retry = null
    const generation = this.#generation
    const stale = () => !this.#active || generation !== this.#generation
    if (stale()) return
    let Client: new (config: unknown) => PgClientLike
    try {
      // `pg` is what @prisma/adapter-pg runs on, so it is installed wherever this code path runs.
      const pg = (await import('pg' as string)) as { default?: { Client: unknown }; Client?: unknown }
      Client = (pg.default?.Client ?? pg.Client) as typeof Client
    } catch (err) {
      // Not a transient failure: stay on polling rather than retrying forever.
      console.warn(
        `sequencer: cannot load the \`pg\` package for LISTEN/NOTIFY (${(err as Error).message}); other processes' events arrive by polling`,
      )
      this.#active = false
      return
    }
    const config = typeof this.#config === 'string' ? { connectionString: this.#config } : this.#config
    // TCP keepalive: an idle listener is how a silently dropped connection would otherwise go unnoticed.
    const client = new Client({
      keepAlive: true,
      ...config,
      application_name: 'next-atproto firehose listener',
    })
    const lost = (err: unknown) => this.#lost(client, err)
    client.on('error', (err) => lost(err))
    client.on('end', () => lost(new Error('connection ended')))
    client.on('notification', (msg) => {
      if (msg.channel === this.#channel) this.#wakeAll()
    })
    try {
      await client.connect()
      await client.query(`LISTEN ${this.#channel}`)
    } catch (err) {
      client.end().catch(() => {})
      if (!stale()) this.#lost(null, err)
      return
    }
    if (stale()) {
      await client.end().catch(() => {})
      return
    }
    this.#client = client
    this.#retryMs = MIN_RETRY_MS
    this.#warned = false
    // A notifier connection is no reason to keep the process alive; close() ends it cleanly.
    ;(client as { connection?: { stream?: { unref?(): void } } }).connection?.stream?.unref?.()
    // Appends made while we were not listening were announced to nobody: read the log once now.
    this.#wakeAll()
  }

  #lost(client: PgClientLike | null, err: unknown): void {
    if (client && this.#client !== client) return // already handled (error then end)
    this.#client = null
    client?.end().catch(() => {})
    if (!this.#active) return
    if (!this.#warned) {
      // Once per outage: the poll fallback keeps the firehose correct meanwhile, only slower.
      console.warn(
        `sequencer: the PostgreSQL LISTEN connection failed (${(err as Error)?.message ?? err}); retrying, polling meanwhile`,
      )
      this.#warned = true
    }
    this.#retry = setTimeout(() => void this.#connect(), this.#retryMs)
    this.#retry.unref?.()
    this.#retryMs = Math.min(this.#retryMs * 2, MAX_RETRY_MS)
  }
}

/**
 * Cross-process wake-ups on SQLite, which has no notifications: `PRAGMA data_version` changes when
 * another connection (another process) commits to the file, and reading it touches no table, so it can
 * be checked often. Writes of this process do not change it; they wake the sequencer directly.
 */
export class SqliteChangeWatcher {
  readonly #watchers = new Set<() => void>()
  readonly #read: () => Promise<number>
  readonly #intervalMs: number
  #timer: ReturnType<typeof setTimeout> | null = null
  #last: number | null = null
  #warned = false
  /** Bumped on start and close, so a check in flight from an earlier run does not reschedule. */
  #generation = 0

  constructor(read: () => Promise<number>, intervalMs = 100) {
    this.#read = read
    this.#intervalMs = intervalMs
  }

  watch(onWake: () => void): () => void {
    this.#watchers.add(onWake)
    if (this.#watchers.size === 1) this.#schedule(++this.#generation)
    return () => {
      this.#watchers.delete(onWake)
      if (this.#watchers.size === 0) this.close()
    }
  }

  close(): void {
    this.#generation++
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    this.#last = null
  }

  #schedule(generation: number): void {
    this.#timer = setTimeout(() => void this.#check(generation), this.#intervalMs)
    this.#timer.unref?.()
  }

  async #check(generation: number): Promise<void> {
    try {
      const version = await this.#read()
      if (generation !== this.#generation) return
      const changed = this.#last !== null && version !== this.#last
      this.#last = version
      this.#warned = false
      if (changed) {
        for (const w of this.#watchers) w()
      }
    } catch (err) {
      if (!this.#warned) console.warn('sequencer: PRAGMA data_version failed; polling meanwhile', err)
      this.#warned = true
    }
    if (generation === this.#generation) this.#schedule(generation)
  }
}
