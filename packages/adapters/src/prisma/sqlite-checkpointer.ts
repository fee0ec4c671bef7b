/**
 * WAL checkpoints off the request path. SQLite checkpoints a WAL file inside whichever commit pushes it
 * past 1000 pages: that commit copies the pages back into the database and syncs it, about 10 ms here
 * every hundred or so commits, which is a quarter of the write path's time and its whole latency tail.
 * The direct writer connection turns that off, and a worker thread with its own connection runs
 * PASSIVE checkpoints (they never wait for, nor block, readers and writers) shortly after writes.
 * Writes that land while the worker copies keep the WAL from being fully checkpointed, and SQLite only
 * rewinds a WAL to its start when a write begins on a fully checkpointed one: so once the log is long
 * (4,000 frames, about 16 MiB) the writer finishes the frames written meanwhile inline, right after its
 * next commit (a small copy instead of the whole log), and the WAL then restarts instead of growing. (A RESTART
 * checkpoint in the worker instead makes writes wait for it, which measured slower.) Without a worker
 * (better-sqlite3 not resolvable from here or the app, the worker failing) the writer keeps SQLite's
 * automatic checkpoints.
 */
import { createRequire } from 'node:module'
import path from 'node:path'
import { Worker } from 'node:worker_threads'

/** Least time between two checkpoints while writes go on. */
const INTERVAL_MS = 50
/**
 * WAL length (frames) from which the writer finishes a checkpoint inline so the log restarts: below it
 * the log may keep growing a while (each inline finish syncs the database file on the request path).
 */
const FINISH_FRAMES = 4000
/**
 * Writes after which the writer checkpoints inline anyway: a process that never yields to its event
 * loop (a tight in-process loop) would otherwise let the WAL grow without bound.
 */
const INLINE_AFTER = 2000

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.module)
const db = new Database(workerData.file, { timeout: 5000 })
parentPort.on('message', (msg) => {
  if (msg === 'close') { db.close(); parentPort.close(); return }
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)')
    parentPort.postMessage({ ok: true, log: row.log })
  } catch (err) {
    parentPort.postMessage({ ok: false, error: String(err && err.message || err) })
  }
})
parentPort.postMessage({ ready: true })
`

/** Where better-sqlite3 is: beside this package, beside Prisma's adapter, or in the app. */
function resolveDriver(): string | null {
  for (const base of [import.meta.url, path.join(process.cwd(), 'package.json')]) {
    const req = createRequire(base)
    try {
      return req.resolve('better-sqlite3')
    } catch {}
    try {
      return createRequire(req.resolve('@prisma/adapter-better-sqlite3')).resolve('better-sqlite3')
    } catch {}
  }
  return null
}

/** Background PASSIVE checkpoints of one WAL database file. */
export class SqliteCheckpointer {
  readonly #worker: Worker
  #ready = false
  #running = false
  #wanted = false
  #timer: ReturnType<typeof setTimeout> | null = null
  #last = 0
  #closed = false
  #since = 0
  #finish = false

  private constructor(worker: Worker, onState: (active: boolean) => void) {
    this.#worker = worker
    worker.unref()
    worker.on('message', (msg: { ready?: boolean; ok?: boolean; log?: number }) => {
      if (msg.ready) {
        this.#ready = true
        onState(true)
        return
      }
      this.#running = false
      this.#since = 0
      if (msg.ok && (msg.log ?? 0) >= FINISH_FRAMES) this.#finish = true
      this.#last = Date.now()
      if (this.#wanted) this.#schedule()
    })
    // A dead worker: the writer goes back to SQLite's own checkpoints.
    const stop = () => {
      if (this.#closed) return
      this.#closed = true
      if (this.#timer) clearTimeout(this.#timer)
      onState(false)
    }
    worker.on('error', stop)
    worker.on('exit', stop)
  }

  /** A checkpointer for `file`, or null when better-sqlite3 cannot be loaded in a worker. */
  static start(file: string, onState: (active: boolean) => void): SqliteCheckpointer | null {
    const module = resolveDriver()
    if (!module) return null
    try {
      return new SqliteCheckpointer(new Worker(WORKER, { eval: true, workerData: { module, file } }), onState)
    } catch {
      return null
    }
  }

  /** Whether the worker is up (the writer has then turned its automatic checkpoints off). */
  get active(): boolean {
    return this.#ready && !this.#closed
  }

  /**
   * A write landed: checkpoint soon (at most every {@link INTERVAL_MS}). Returns true when the caller
   * should checkpoint inline: to finish what the worker left (see above), or because the worker has
   * not had a turn for {@link INLINE_AFTER} writes.
   */
  kick(): boolean {
    if (this.#finish || ++this.#since >= INLINE_AFTER) {
      this.#finish = false
      this.#since = 0
      return true
    }
    this.#wanted = true
    if (!this.#running && !this.#timer && this.active) this.#schedule()
    return false
  }

  #schedule(): void {
    const wait = Math.max(0, this.#last + INTERVAL_MS - Date.now())
    this.#timer = setTimeout(() => {
      this.#timer = null
      if (!this.active) return
      this.#wanted = false
      this.#running = true
      this.#worker.postMessage('run')
    }, wait)
    this.#timer.unref?.()
  }

  async close(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    const wasClosed = this.#closed
    this.#closed = true
    if (wasClosed) return
    const exited = new Promise((resolve) => this.#worker.once('exit', resolve))
    this.#worker.postMessage('close')
    await Promise.race([exited, new Promise((r) => setTimeout(r, 1000).unref?.())])
    await this.#worker.terminate()
  }
}
