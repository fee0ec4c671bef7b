// requestCrawl notifications against a real loopback HTTP server playing the relay, and a PDS process
// with every background job running that must exit on its own after close().
import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { AtpAgent } from '@atproto/api'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Atproto } from '../atproto.js'
import { CrawlerNotifier, requestCrawlUrl } from './crawlers.js'
import { inProcessPds } from './test-pds-app.js'

interface Relay {
  url: string
  requests: Array<{ method: string; path: string; type: string | undefined; body: unknown }>
  status: number
  close(): Promise<void>
}

async function startRelay(): Promise<Relay> {
  const relay: Relay = { url: '', requests: [], status: 200, close: async () => {} }
  const server: Server = createServer(async (req: IncomingMessage, res) => {
    let text = ''
    for await (const chunk of req) text += chunk
    relay.requests.push({
      method: req.method!,
      path: req.url!,
      type: req.headers['content-type'],
      body: text ? JSON.parse(text) : null,
    })
    res.writeHead(relay.status, { 'content-type': 'application/json' })
    res.end(relay.status === 200 ? '{}' : '{"error":"InternalServerError","message":"relay is down"}')
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  relay.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  relay.close = () => new Promise<void>((resolve) => server.close(() => resolve()))
  return relay
}

const until = async (pred: () => boolean, ms = 15_000) => {
  const deadline = Date.now() + ms
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 10))
  }
}

function makeApp(crawlers: string[], crawlIntervalMs: number): Atproto {
  return inProcessPds({ publicUrl: 'http://pds.crawl.test', crawlers, crawlIntervalMs }).app
}

const agentOf = (app: Atproto) =>
  new AtpAgent({
    service: 'http://pds.crawl.test',
    fetch: (input, init) => app.fetch(new Request(input as string, init)),
  })

async function write(agent: AtpAgent, did: string, text: string) {
  await agent.com.atproto.repo.createRecord({
    repo: did,
    collection: 'app.bsky.feed.post',
    record: { $type: 'app.bsky.feed.post', text, createdAt: new Date().toISOString() },
  })
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('requestCrawl', () => {
  it('maps relay hostnames and URLs to their requestCrawl endpoint', () => {
    expect(requestCrawlUrl('bsky.network')).toBe('https://bsky.network/xrpc/com.atproto.sync.requestCrawl')
    expect(requestCrawlUrl('http://127.0.0.1:2470/')).toBe(
      'http://127.0.0.1:2470/xrpc/com.atproto.sync.requestCrawl',
    )
  })

  it('notifies every relay on start, then at most once per interval whatever the writes', async () => {
    const [one, two] = await Promise.all([startRelay(), startRelay()])
    const app = makeApp([one.url, two.url], 3600_000)
    try {
      await app.start()
      await until(() => one.requests.length === 1 && two.requests.length === 1)
      expect(one.requests[0]).toEqual({
        method: 'POST',
        path: '/xrpc/com.atproto.sync.requestCrawl',
        type: 'application/json',
        body: { hostname: 'pds.crawl.test' },
      })
      const agent = agentOf(app)
      const { data } = await agent.createAccount({ handle: 'crawl-a.test', password: 'password-1' })
      for (let i = 0; i < 5; i++) await write(agent, data.did, `post ${i}`)
      // Give a second round every chance to go out (it must not, inside the interval).
      await new Promise((r) => setTimeout(r, 300))
      expect(one.requests).toHaveLength(1)
      expect(two.requests).toHaveLength(1)
    } finally {
      await app.close()
      await Promise.all([one.close(), two.close()])
    }
  })

  it('notifies again after a write once the interval has passed', async () => {
    const relay = await startRelay()
    const app = makeApp([relay.url], 200)
    try {
      await app.start()
      await until(() => relay.requests.length === 1)
      const agent = agentOf(app)
      const { data } = await agent.createAccount({ handle: 'crawl-b.test', password: 'password-1' })
      await new Promise((r) => setTimeout(r, 300))
      await write(agent, data.did, 'after the interval')
      await until(() => relay.requests.length === 2)
      expect(relay.requests[1]!.body).toEqual({ hostname: 'pds.crawl.test' })
    } finally {
      await app.close()
      await relay.close()
    }
  })

  it('logs a failing or unreachable relay and never fails the write', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const down = await startRelay()
    down.status = 500
    const gone = await startRelay()
    await gone.close() // nothing listens on its port anymore
    const notifier = new CrawlerNotifier({ hostname: 'pds.test', crawlers: [down.url, gone.url] })
    await expect(notifier.notify()).resolves.toBeUndefined()
    expect(down.requests).toHaveLength(1)
    const messages = warn.mock.calls.map((c) => String(c[0]))
    expect(messages.some((m) => m.includes(down.url) && m.includes('500'))).toBe(true)
    expect(messages.some((m) => m.includes(gone.url) && m.includes('failed'))).toBe(true)
    await notifier.close()
    await down.close()

    // In a running PDS, writes go through while the relay fails.
    const failing = await startRelay()
    failing.status = 500
    const app = makeApp([failing.url], 0)
    try {
      await app.start()
      const agent = agentOf(app)
      const { data } = await agent.createAccount({ handle: 'crawl-c.test', password: 'password-1' })
      await write(agent, data.did, 'relay is down')
      await until(() => failing.requests.length >= 2)
    } finally {
      await app.close()
      await failing.close()
    }
  })

  it('a PDS process with jobs and crawlers running exits by itself after close()', {
    timeout: 60_000,
  }, async () => {
    const relay = await startRelay()
    try {
      const script = join(import.meta.dirname, 'test-close-app.ts')
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, relay.url], {
        cwd: import.meta.dirname,
        timeout: 45_000, // a timer or socket left behind would keep the child alive until killed here
      })
      expect(stdout).toContain('closed')
      expect(relay.requests.length).toBeGreaterThanOrEqual(1)
    } finally {
      await relay.close()
    }
  })
})
