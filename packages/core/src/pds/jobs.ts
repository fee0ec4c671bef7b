/**
 * Background maintenance of a PDS process: firehose retention (prune events past the replay window)
 * and blob garbage collection. Every process may run them: each step is a conditional, batched delete
 * in storage, so concurrent runs in several processes only share the work.
 */
import { type BlobGcResult, collectBlobGarbage } from './blob-gc.js'
import type { PdsContext } from './context.js'
import { DEFAULT_FIREHOSE_RETENTION_MS } from './sequencer.js'

/** Default age after which an upload no record references is deleted: 1 hour. */
export const DEFAULT_TEMP_BLOB_TTL_MS = 3600_000
/** Default idle time before an unreferenced permanent blob is deleted (also the write's lease): 5 min. */
export const DEFAULT_BLOB_GRACE_MS = 5 * 60_000
/** Default interval of the maintenance jobs: 10 minutes. */
export const DEFAULT_JOB_INTERVAL_MS = 10 * 60_000

/**
 * A task run every `intervalMs` on an unref'd timer (it never keeps the process alive), never
 * overlapping itself; failures are logged, never thrown. close() stops it and waits for a run.
 */
export class PeriodicJob {
  readonly #name: string
  readonly #intervalMs: number
  readonly #task: () => Promise<unknown>
  #timer: ReturnType<typeof setTimeout> | null = null
  #running: Promise<void> | null = null
  #closed = false

  constructor(name: string, intervalMs: number, task: () => Promise<unknown>) {
    this.#name = name
    this.#intervalMs = intervalMs
    this.#task = task
  }

  /** Schedule the first run after `firstDelayMs` (default: one interval), then every interval. */
  start(firstDelayMs = this.#intervalMs): void {
    if (this.#closed || this.#timer) return
    this.#schedule(firstDelayMs)
  }

  /** Run now, or join the run in progress. Resolves when it ends; never rejects. */
  run(): Promise<void> {
    if (this.#closed) return Promise.resolve()
    this.#running ??= (async () => {
      try {
        await this.#task()
      } catch (err) {
        console.error(`pds: ${this.#name} job failed`, err)
      } finally {
        this.#running = null
      }
    })()
    return this.#running
  }

  /** Stop scheduling and wait for a run in progress. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    await this.#running
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(async () => {
      await this.run()
      if (!this.#closed) this.#schedule(this.#intervalMs)
    }, delayMs)
    this.#timer.unref?.()
  }
}

/** Settings of the maintenance jobs (`PdsOptions.jobs`). */
export interface PdsJobsOptions {
  /** How often each job runs (ms); default 10 minutes. The first run comes after at most a minute. */
  intervalMs?: number
  /** Age after which an upload no record references is deleted (ms); default 1 hour. */
  tempBlobTtlMs?: number
  /**
   * Idle time before a permanent blob no record references anymore is deleted (ms); default 5 minutes.
   * It is also the lease of a write on the blobs it references, so keep it well above a commit's time.
   */
  blobGraceMs?: number
}

/** The maintenance jobs of one PDS process. */
export class PdsJobs {
  readonly #ctx: PdsContext
  readonly #retentionMs: number
  readonly #tempTtlMs: number
  readonly #graceMs: number
  readonly #intervalMs: number
  readonly #prune: PeriodicJob
  readonly #blobs: PeriodicJob

  constructor(ctx: PdsContext, options: PdsJobsOptions = {}) {
    this.#ctx = ctx
    this.#retentionMs = ctx.options.firehoseRetentionMs ?? DEFAULT_FIREHOSE_RETENTION_MS
    this.#tempTtlMs = options.tempBlobTtlMs ?? DEFAULT_TEMP_BLOB_TTL_MS
    this.#graceMs = options.blobGraceMs ?? DEFAULT_BLOB_GRACE_MS
    this.#intervalMs = options.intervalMs ?? DEFAULT_JOB_INTERVAL_MS
    this.#prune = new PeriodicJob('firehose retention', this.#intervalMs, () => this.pruneFirehose())
    this.#blobs = new PeriodicJob('blob garbage collection', this.#intervalMs, () => this.collectBlobs())
  }

  /** Schedule both jobs (unref'd timers). */
  start(): void {
    const first = Math.min(this.#intervalMs, 60_000)
    this.#prune.start(first)
    this.#blobs.start(first)
  }

  /** Delete firehose events older than the replay window; returns how many. */
  async pruneFirehose(now = new Date()): Promise<number> {
    return this.#ctx.storage.sequencer.deleteBefore(new Date(now.getTime() - this.#retentionMs))
  }

  /** One blob garbage collection pass (see blob-gc.ts). */
  collectBlobs(now = new Date()): Promise<BlobGcResult> {
    return collectBlobGarbage(this.#ctx, { tempTtlMs: this.#tempTtlMs, graceMs: this.#graceMs, now })
  }

  /** Stop both jobs and wait for runs in progress. */
  async close(): Promise<void> {
    await Promise.all([this.#prune.close(), this.#blobs.close()])
  }
}
