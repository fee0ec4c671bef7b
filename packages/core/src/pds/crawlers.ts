/**
 * `com.atproto.sync.requestCrawl` notifications: tell the configured relays this PDS exists (on start)
 * and has news (after writes), so they subscribe to its firehose. As the reference PDS does, at most
 * one round per interval (20 minutes by default): a relay that crawls us stays subscribed, so further
 * writes need no reminder. Never blocks a write and never throws: failures are logged.
 */

/** Default least time between two notification rounds: 20 minutes. */
export const DEFAULT_CRAWL_INTERVAL_MS = 20 * 60_000

/** Options of {@link CrawlerNotifier}. */
export interface CrawlerNotifierOptions {
  /** The hostname sent to relays (this PDS's public host, with its port when not the default). */
  hostname: string
  /** Relays: hostnames (`bsky.network`, meaning https) or base URLs (`http://127.0.0.1:2470`). */
  crawlers: string[]
  /** Least time between two rounds (ms); default 20 minutes. */
  intervalMs?: number
  /** Per-request timeout (ms); default 10 s. */
  timeoutMs?: number
  fetch?: typeof fetch
}

/** The requestCrawl endpoint of a relay given as a hostname or URL. */
export function requestCrawlUrl(crawler: string): string {
  const base = /^https?:\/\//i.test(crawler) ? crawler : `https://${crawler}`
  return new URL('/xrpc/com.atproto.sync.requestCrawl', base).toString()
}

/** Sends requestCrawl to every configured relay, at most once per interval. */
export class CrawlerNotifier {
  readonly #hostname: string
  readonly #urls: string[]
  readonly #intervalMs: number
  readonly #timeoutMs: number
  readonly #fetch: typeof fetch
  readonly #inFlight = new Set<Promise<void>>()
  readonly #abort = new AbortController()
  #lastRound = Number.NEGATIVE_INFINITY
  #closed = false

  constructor(options: CrawlerNotifierOptions) {
    this.#hostname = options.hostname
    this.#urls = options.crawlers.map(requestCrawlUrl)
    this.#intervalMs = options.intervalMs ?? DEFAULT_CRAWL_INTERVAL_MS
    this.#timeoutMs = options.timeoutMs ?? 10_000
    this.#fetch = options.fetch ?? fetch
  }

  /**
   * Notify every relay unless a round went out within the interval. Returns at once; the returned
   * promise (which never rejects) settles when this round's requests did, for tests and shutdown.
   */
  notify(): Promise<void> {
    const now = Date.now()
    if (this.#closed || this.#urls.length === 0 || now - this.#lastRound < this.#intervalMs) {
      return Promise.resolve()
    }
    this.#lastRound = now
    const round = Promise.all(this.#urls.map((url) => this.#send(url))).then(() => {})
    this.#inFlight.add(round)
    void round.finally(() => this.#inFlight.delete(round))
    return round
  }

  /** Stop notifying; requests in flight are aborted and awaited. */
  async close(): Promise<void> {
    this.#closed = true
    this.#abort.abort()
    await Promise.all(this.#inFlight)
  }

  async #send(url: string): Promise<void> {
    try {
      const res = await this.#fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ hostname: this.#hostname }),
        signal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#timeoutMs)]),
      })
      if (!res.ok) {
        const text = await res.text().catch(() => '')
        console.warn(`pds: requestCrawl to ${url} answered ${res.status} ${text.slice(0, 200)}`)
      } else await res.body?.cancel()
    } catch (err) {
      if (this.#closed) return
      console.warn(`pds: requestCrawl to ${url} failed: ${(err as Error).message}`)
    }
  }
}
