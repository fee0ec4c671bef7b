/**
 * Running a subscription over a socket, and fan-out of one encoded frame to many subscribers with a
 * bounded queue each, so one slow consumer is cut off instead of slowing the others.
 */
import { EncodedFrame, encodeErrorFrame, encodeMessageFrame, messageToFrame } from './frames.js'
import { CloseCode, type SubscriptionSocket } from './websocket.js'
import { ConsumerTooSlowError, toXrpcError } from './xrpc-error.js'

/** Flow-control limits of one subscription socket. */
export interface SocketLimits {
  /** Above this many buffered bytes, stop pulling messages until the socket drains (default 1 MiB). */
  highWaterMark?: number
  /** A socket that does not drain within this time is cut off with ConsumerTooSlow (default 15 s). */
  drainTimeoutMs?: number
}

/**
 * Pump `messages` into `socket` as frames. A throw (from the source or `prepare`) is sent as an error
 * frame and the socket closes with 1008; the end of the source closes it normally. Resolves when done.
 */
export async function pumpSubscription(
  nsid: string,
  socket: SubscriptionSocket,
  source: (signal: AbortSignal) => AsyncIterable<unknown> | Promise<AsyncIterable<unknown>>,
  limits: SocketLimits = {},
  onError?: (err: unknown) => void,
): Promise<void> {
  const highWaterMark = limits.highWaterMark ?? 1024 * 1024
  const drainTimeoutMs = limits.drainTimeoutMs ?? 15_000
  const ac = new AbortController()
  let closed = false
  const aborted = new Promise<'aborted'>((resolve) =>
    socket.onClose(() => {
      closed = true
      ac.abort()
      resolve('aborted')
    }),
  )
  let iterator: AsyncIterator<unknown> | undefined
  try {
    iterator = (await source(ac.signal))[Symbol.asyncIterator]()
    for (;;) {
      // Race the source with the close, so a source waiting for events does not pin a dead socket.
      const next = await Promise.race([iterator.next(), aborted])
      if (next === 'aborted' || next.done || closed) break
      const bytes = messageToFrame(nsid, next.value)
      const sent = new Promise<Error | undefined>((resolve) => socket.send(bytes, resolve))
      if (socket.bufferedAmount > highWaterMark) {
        let timer: ReturnType<typeof setTimeout> | undefined
        const timeout = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), drainTimeoutMs)
        })
        const result = await Promise.race([sent, aborted, timeout])
        clearTimeout(timer)
        if (result === 'timeout') throw new ConsumerTooSlowError()
        if (result === 'aborted') break
      }
    }
    if (!closed) socket.close(CloseCode.Normal)
  } catch (err) {
    if (closed) return
    const xrpcErr = toXrpcError(err)
    if (xrpcErr.status === 500) onError?.(err)
    socket.send(encodeErrorFrame(xrpcErr), () => {})
    socket.close(CloseCode.Policy, xrpcErr.error)
  } finally {
    ac.abort()
    // Let the source clean up (unsubscribe, release DB cursors); it may already be finished.
    iterator?.return?.().catch(() => {})
  }
}

interface Subscriber {
  queue: EncodedFrame[]
  head: number
  wake: (() => void) | null
  tooSlow: boolean
  maxQueue: number
}

/** Options of {@link FrameBroadcast.subscribe}. */
export interface BroadcastSubscribeOptions {
  /** Ends the iteration (pass the subscription's `signal`). */
  signal?: AbortSignal
  /** Frames allowed to wait for this subscriber before it is cut off (default 10,000). */
  maxQueue?: number
}

/**
 * Fan-out of live events: `publish` encodes a frame once and queues the same bytes for every
 * subscriber. A subscriber whose queue overflows gets ConsumerTooSlow at its next pull; the others never wait.
 */
export class FrameBroadcast {
  readonly #subscribers = new Set<Subscriber>()

  /** Number of live subscribers. */
  get size(): number {
    return this.#subscribers.size
  }

  /** Encode a message frame (`t` like `#commit`) once and deliver it to every subscriber. */
  publish(t: string, body: unknown): EncodedFrame {
    const frame = new EncodedFrame(encodeMessageFrame(t, body))
    this.publishFrame(frame)
    return frame
  }

  /** Deliver an already-encoded frame to every subscriber. */
  publishFrame(frame: EncodedFrame): void {
    for (const sub of this.#subscribers) {
      if (sub.tooSlow) continue
      if (sub.queue.length - sub.head >= sub.maxQueue) {
        sub.tooSlow = true
        sub.queue = []
        sub.head = 0
      } else {
        sub.queue.push(frame)
      }
      const wake = sub.wake
      sub.wake = null
      wake?.()
    }
  }

  /** Iterate frames published from now on, until `signal` aborts or the subscriber is too slow. */
  async *subscribe(options: BroadcastSubscribeOptions = {}): AsyncGenerator<EncodedFrame, void, undefined> {
    const sub: Subscriber = {
      queue: [],
      head: 0,
      wake: null,
      tooSlow: false,
      maxQueue: options.maxQueue ?? 10_000,
    }
    const signal = options.signal
    const onAbort = () => {
      const wake = sub.wake
      sub.wake = null
      wake?.()
    }
    this.#subscribers.add(sub)
    signal?.addEventListener('abort', onAbort)
    try {
      for (;;) {
        if (signal?.aborted) return
        if (sub.tooSlow) throw new ConsumerTooSlowError()
        if (sub.head < sub.queue.length) {
          const frame = sub.queue[sub.head++]
          // Compact now and then so the queue does not grow without bound.
          if (sub.head > 1024 && sub.head * 2 > sub.queue.length) {
            sub.queue = sub.queue.slice(sub.head)
            sub.head = 0
          }
          yield frame
          continue
        }
        await new Promise<void>((resolve) => {
          sub.wake = resolve
        })
      }
    } finally {
      this.#subscribers.delete(sub)
      signal?.removeEventListener('abort', onAbort)
    }
  }
}
