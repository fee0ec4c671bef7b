/**
 * The firehose: reads the database-backed event log (one ordered log, written in the commit
 * transaction) and pushes every event to live subscribers as soon as it is written. Writers in this
 * process wake it directly; other processes' writes wake it through the storage's `watch` hook
 * (PostgreSQL LISTEN/NOTIFY), with a slow poll kept as the safety net, or, without a watch hook, a poll.
 */
import { decodeCbor } from '../data/cbor.js'
import type { SeqRow, SequencerStore } from '../storage/types.js'
import { EncodedFrame, encodeMessageFrame } from '../xrpc/frames.js'
import { FrameBroadcast } from '../xrpc/subscription.js'
import { FutureCursorError, InvalidRequestError } from '../xrpc/xrpc-error.js'

/** What the sequencer needs of storage. */
export type SequencerSource = Pick<
  SequencerStore,
  'range' | 'latest' | 'earliest' | 'earliestAfter' | 'onAppend' | 'watch'
>

/** Default firehose replay window: 72 hours (the reference PDS's). */
export const DEFAULT_FIREHOSE_RETENTION_MS = 72 * 3600_000

/** A frame that remembers its sequence number (to join backfill and live delivery without gaps). */
export class SeqFrame extends EncodedFrame {
  constructor(
    bytes: Uint8Array,
    readonly seq: number,
  ) {
    super(bytes)
  }
}

/** Options of {@link Sequencer}. */
export interface SequencerOptions {
  /** Poll interval when the storage has no `watch` hook (ms); default 1000. Same-process writes never wait. */
  pollMs?: number
  /**
   * Poll interval kept as a safety net when the storage has a `watch` hook (a notification lost with a
   * dropped connection is picked up at the latest then); default 10,000 ms.
   */
  fallbackPollMs?: number
  /** Page size of backfill reads; default 500. */
  pageSize?: number
  /** Frames a live subscriber may lag before it is cut off (ConsumerTooSlow); default 10,000. */
  maxQueue?: number
  /**
   * Replay window (ms): a cursor whose next event is older than this gets `#info OutdatedCursor` and
   * replay from the oldest event inside the window, even before the pruning job removed the older
   * ones. Without it, only a cursor below the oldest stored event is outdated.
   */
  retentionMs?: number
}

/** Encode a stored event as its wire frame (`#commit` etc. with `seq` first, as the reference orders keys). */
export function frameForRow(row: SeqRow): SeqFrame {
  const body = decodeCbor(row.body) as Record<string, unknown>
  return new SeqFrame(encodeMessageFrame(`#${row.type}`, { ...body, seq: row.seq }), row.seq)
}

/** Firehose reader and fan-out for one process. */
export class Sequencer {
  readonly #source: SequencerSource
  readonly #broadcast = new FrameBroadcast()
  readonly #pollMs: number
  readonly #fallbackPollMs: number
  readonly #pageSize: number
  readonly #maxQueue: number
  readonly #retentionMs: number | undefined
  #lastSeen = 0
  #reading: Promise<void> | null = null
  #again = false
  #scheduled = false
  #timer: ReturnType<typeof setInterval> | null = null
  #unsubscribe: (() => void) | null = null
  #unwatch: (() => void) | null = null
  #started: Promise<void> | null = null
  #closed = false
  readonly #eventListeners = new Set<() => void>()
  // Callers of `published()` waiting for a read that starts after their call, and those of the read
  // in progress (moved there when it starts).
  #waitingNext: Array<() => void> = []
  #waitingRead: Array<() => void> = []

  constructor(source: SequencerSource, options: SequencerOptions = {}) {
    this.#source = source
    this.#pollMs = options.pollMs ?? 1000
    this.#fallbackPollMs = options.fallbackPollMs ?? 10_000
    this.#pageSize = options.pageSize ?? 500
    this.#maxQueue = options.maxQueue ?? 10_000
    this.#retentionMs = options.retentionMs
  }

  /** Begin tailing the log from its current end. Idempotent. */
  start(): Promise<void> {
    this.#started ??= (async () => {
      this.#lastSeen = (await this.#source.latest()) ?? 0
      if (this.#closed) return
      this.#unsubscribe = this.#source.onAppend?.(() => this.wake()) ?? null
      this.#unwatch = this.#source.watch?.(() => this.wake()) ?? null
      this.#timer = setInterval(() => this.wake(), this.#unwatch ? this.#fallbackPollMs : this.#pollMs)
      this.#timer.unref?.()
    })()
    return this.#started
  }

  /** Stop tailing (timers, storage listeners) and wait for a read in progress. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true
    for (const done of this.#waitingNext.splice(0)) done()
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = null
    this.#unsubscribe?.()
    this.#unsubscribe = null
    this.#unwatch?.()
    this.#unwatch = null
    await this.#started?.catch(() => {})
    await this.#reading
  }

  /** Read and publish what was appended since the last read; call after every committed write. */
  wake(): void {
    if (!this.#started || this.#closed) return
    if (this.#reading) {
      this.#again = true
      return
    }
    if (this.#scheduled) return
    // One read for the wake-ups of one commit (the writer's and the storage's own), a turn later.
    this.#scheduled = true
    defer(() => {
      this.#scheduled = false
      if (!this.#closed) this.#read()
    })
  }

  /**
   * Read and publish the log now, and resolve once everything committed before the call has been
   * handed to the live subscribers (or after `timeoutMs`; never rejects). A writer awaits it before
   * answering, so its event leaves in the same turn as its response and no pause of the process (GC,
   * other work) falls between them; with nobody subscribed it only wakes the sequencer.
   */
  published(timeoutMs = 100): Promise<void> {
    if (!this.#started || this.#closed || (this.#broadcast.size === 0 && this.#eventListeners.size === 0)) {
      this.wake()
      return Promise.resolve()
    }
    return new Promise<void>((resolve) => {
      let done = false
      const finish = () => {
        if (done) return
        done = true
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(finish, timeoutMs)
      this.#waitingNext.push(finish)
      this.#read()
    })
  }

  #read(): void {
    if (this.#reading) {
      this.#again = true
      return
    }
    this.#reading = (async () => {
      try {
        do {
          this.#again = false
          // This pass reads everything committed before it starts: it settles the waiters so far.
          this.#waitingRead.push(...this.#waitingNext)
          this.#waitingNext = []
          await this.#started
          for (;;) {
            if (this.#broadcast.size === 0 && this.#eventListeners.size === 0) {
              // Nobody to deliver to: only keep up with the end of the log (a subscriber joining later
              // without a cursor starts there), not reading the events themselves.
              this.#lastSeen = Math.max(this.#lastSeen, (await this.#source.latest()) ?? 0)
              break
            }
            const rows = await this.#source.range({ after: this.#lastSeen, limit: this.#pageSize })
            for (const row of rows) {
              // The log has no gaps visible to readers (storage contract), so order is by seq.
              this.#lastSeen = row.seq
              if (this.#broadcast.size > 0) this.#broadcast.publishFrame(frameForRow(row))
            }
            if (rows.length > 0) this.#emitEvents()
            if (rows.length < this.#pageSize) break
          }
          this.#settle()
        } while (this.#again)
      } catch (err) {
        console.error('sequencer: reading the event log failed', err)
      } finally {
        this.#settle()
        this.#reading = null
        // A failed pass ends the loop without honouring `again`: callers that came in meanwhile get a pass.
        if (this.#waitingNext.length > 0 && !this.#closed) this.#read()
      }
    })()
  }

  #settle(): void {
    const waiting = this.#waitingRead
    this.#waitingRead = []
    for (const done of waiting) done()
  }

  /**
   * Call `listener` whenever new events were read from the log (written by any process), e.g. to tell
   * relays about writes. Listeners must not throw or block. Returns the unsubscribe.
   */
  onEvents(listener: () => void): () => void {
    this.#eventListeners.add(listener)
    return () => this.#eventListeners.delete(listener)
  }

  #emitEvents(): void {
    for (const l of this.#eventListeners) {
      try {
        l()
      } catch (err) {
        console.error('sequencer: an event listener threw', err)
      }
    }
  }

  /** Whether events after `cursor` are gone (pruned) or older than the replay window. */
  async #outdated(cursor: number): Promise<boolean> {
    const earliest = await this.#source.earliest()
    if (earliest !== null && cursor < earliest - 1) return true
    if (this.#retentionMs === undefined) return false
    const [next] = await this.#source.range({ after: cursor, limit: 1 })
    return next !== undefined && next.time.getTime() < Date.now() - this.#retentionMs
  }

  /** The seq just before the oldest event inside the replay window (replay continues after it). */
  async #windowStart(latest: number): Promise<number> {
    if (this.#retentionMs === undefined || !this.#source.earliestAfter) return 0
    const first = await this.#source.earliestAfter(new Date(Date.now() - this.#retentionMs))
    return first === null ? latest : first - 1
  }

  /**
   * Frames for one subscriber: replay from `cursor` (exclusive) out of the retained log, then live
   * events, with no event missing or repeated in between. Without a cursor, only live events.
   */
  async *subscribe(cursor: number | undefined, signal: AbortSignal): AsyncGenerator<EncodedFrame | object> {
    await this.start()
    // Join live delivery first, so events appended while we backfill are queued, then skip duplicates.
    const live = this.#broadcast.subscribe({ signal, maxQueue: this.#maxQueue })
    const liveIter = live[Symbol.asyncIterator]()
    const firstLive = liveIter.next() // registers the subscriber
    let last = cursor === undefined ? this.#lastSeen : cursor
    try {
      if (cursor !== undefined) {
        if (!Number.isSafeInteger(cursor) || cursor < 0) throw new InvalidRequestError('Invalid cursor')
        const latest = (await this.#source.latest()) ?? 0
        if (cursor > latest) throw new FutureCursorError()
        if (await this.#outdated(cursor)) {
          // Replay the oldest retained event next: events older than the window may still be stored.
          last = Math.max(cursor, await this.#windowStart(latest))
          yield {
            $type: '#info',
            name: 'OutdatedCursor',
            message: 'Requested cursor exceeded limit. Possibly missing events',
          }
        }
        for (;;) {
          if (signal.aborted) return
          const rows = await this.#source.range({ after: last, limit: this.#pageSize })
          for (const row of rows) {
            last = row.seq
            yield frameForRow(row)
          }
          if (rows.length < this.#pageSize) break
        }
      }
      for (let next = await firstLive; !next.done; next = await liveIter.next()) {
        const frame = next.value as SeqFrame
        if (frame.seq <= last) continue
        last = frame.seq
        yield frame
      }
    } finally {
      // Not awaited: a pending live `next()` settles only on the next event or on abort (the socket
      // closing aborts `signal`), and return() queues behind it.
      liveIter.return?.(undefined).catch(() => {})
    }
  }
}

/** Run `fn` after the current I/O turn (setImmediate where the runtime has it). */
const defer: (fn: () => void) => void =
  typeof setImmediate === 'function' ? (fn) => void setImmediate(fn) : (fn) => void setTimeout(fn, 0)
