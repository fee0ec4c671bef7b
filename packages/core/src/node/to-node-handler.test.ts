import { createServer, request as httpRequest, type Server } from 'node:http'
import { type AddressInfo, connect } from 'node:net'
import express from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { XrpcServer } from '../xrpc/server.js'
import { toNodeHandler } from './to-node-handler.js'

const MiB = 1024 * 1024
const xrpc = new XrpcServer({ limits: { blob: 1024 * MiB }, onInternalError: () => {} })
  .procedure('io.test.count', {
    input: { encoding: '*/*' },
    handler: async ({ input }) => {
      let size = 0
      let sum = 0
      for await (const chunk of input!.body as ReadableStream<Uint8Array>) {
        size += chunk.byteLength
        sum = (sum + chunk[0]) % 65536
      }
      return { encoding: 'application/json', body: { size, sum } }
    },
  })
  .procedure('io.test.echoJson', {
    input: { encoding: 'application/json' },
    handler: ({ input }) => ({ encoding: 'application/json', body: input!.body }),
  })
  .query('io.test.download', {
    params: { properties: { mib: { type: 'integer', minimum: 1 } } },
    handler: ({ params }) => {
      let left = params.mib as number
      const chunk = new Uint8Array(MiB).fill(7)
      return {
        encoding: 'application/vnd.ipld.car',
        body: new ReadableStream<Uint8Array>({
          pull(c) {
            if (left-- > 0) c.enqueue(chunk)
            else c.close()
          },
        }),
      }
    },
  })
  .query('io.test.whoami', ({ request, connection }) => ({
    encoding: 'application/json',
    body: { url: request.url, ip: connection.remoteAddress },
  }))

function listen(s: Server): Promise<string> {
  return new Promise((r) =>
    s.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)),
  )
}
async function close(s: Server) {
  s.closeAllConnections()
  await new Promise((r) => s.close(r))
}

describe('plain http.createServer', () => {
  let server: Server
  let base: string
  beforeAll(async () => {
    server = createServer(toNodeHandler(xrpc))
    base = await listen(server)
  })
  afterAll(() => close(server))

  it('streams a 256 MiB upload without buffering it', async () => {
    const total = 256
    const before = process.memoryUsage().rss
    let peak = before
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss)
    }, 20)
    const result = await new Promise<{ size: number }>((resolve, reject) => {
      const req = httpRequest(`${base}/xrpc/io.test.count`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
      })
      req.on('response', async (res) => {
        let text = ''
        for await (const c of res) text += c
        resolve(JSON.parse(text))
      })
      req.on('error', reject)
      const chunk = Buffer.alloc(MiB, 1)
      let sent = 0
      const pump = () => {
        while (sent < total) {
          sent++
          if (!req.write(chunk)) return req.once('drain', pump)
        }
        req.end()
      }
      pump()
    })
    clearInterval(timer)
    expect(result.size).toBe(total * MiB)
    // Flat memory: far below the body size (client and server share this process).
    expect(peak - before).toBeLessThan(96 * MiB)
  })

  it('streams a 256 MiB download with backpressure', async () => {
    const before = process.memoryUsage().rss
    let peak = before
    const res = await fetch(`${base}/xrpc/io.test.download?mib=256`)
    expect(res.headers.get('content-type')).toBe('application/vnd.ipld.car')
    let size = 0
    for await (const chunk of res.body!) {
      size += chunk.byteLength
      peak = Math.max(peak, process.memoryUsage().rss)
    }
    expect(size).toBe(256 * MiB)
    expect(peak - before).toBeLessThan(96 * MiB)
  })

  it('sends a one-chunk body with its length in one write, and a longer stream chunked', async () => {
    const raw = (path: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(new URL(base).port), '127.0.0.1')
        let text = ''
        socket.on('data', (d) => {
          text += d.toString('latin1')
        })
        socket.on('end', () => resolve(text))
        socket.on('error', reject)
        socket.write(`GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`)
      })
    const small = await raw('/xrpc/io.test.whoami')
    const [head, body] = small.split('\r\n\r\n') as [string, string]
    expect(head).toMatch(new RegExp(`\r\ncontent-length: ${Buffer.byteLength(body)}\r\n`, 'i'))
    expect(head).not.toMatch(/transfer-encoding/i)
    expect(JSON.parse(body).ip).toBe('127.0.0.1')
    const big = await raw('/xrpc/io.test.download?mib=2')
    const bigHead = big.slice(0, big.indexOf('\r\n\r\n'))
    expect(bigHead).toMatch(/\r\ntransfer-encoding: chunked/i)
    expect(bigHead).not.toMatch(/content-length/i)
    expect(big.endsWith('0\r\n\r\n')).toBe(true)
  })

  it('uses X-Forwarded-* only when trustProxy is set', async () => {
    const headers = {
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'pds.example',
      'x-forwarded-for': '203.0.113.9, 10.0.0.1',
    }
    const plain = await (await fetch(`${base}/xrpc/io.test.whoami`, { headers })).json()
    expect(plain.url).toBe(`${base}/xrpc/io.test.whoami`)
    expect(plain.ip).toBe('127.0.0.1')
    const trusted = createServer(toNodeHandler(xrpc, { trustProxy: true }))
    const tbase = await listen(trusted)
    const viaProxy = await (await fetch(`${tbase}/xrpc/io.test.whoami?x=1`, { headers })).json()
    expect(viaProxy).toEqual({ url: 'https://pds.example/xrpc/io.test.whoami?x=1', ip: '203.0.113.9' })
    await close(trusted)
  })

  it('drains a rejected body so the next request on the connection is answered', async () => {
    const port = new URL(base).port
    // 413 from the declared length (nothing read), then 400 after a partial read; each followed by a
    // pipelined request on the same connection.
    const big = 'x'.repeat(600_000)
    const wire =
      `POST /xrpc/io.test.echoJson HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${big.length}\r\n\r\n${big}` +
      `POST /xrpc/io.test.echoJson HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: ${big.length}\r\n\r\n${big}` +
      'GET /xrpc/io.test.whoami HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'
    const out = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1')
      let text = ''
      socket.on('data', (c) => {
        text += c.toString('latin1')
      })
      socket.on('close', () => resolve(text))
      socket.on('error', reject)
      socket.write(wire)
    })
    const statuses = [...out.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]))
    expect(statuses).toEqual([413, 400, 200])
  })

  it('keeps the connection usable after rejecting an unread body', async () => {
    const agentRes = await fetch(`${base}/xrpc/io.test.echoJson`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x'.repeat(100_000),
    })
    expect(agentRes.status).toBe(400)
    await agentRes.text()
    const next = await fetch(`${base}/xrpc/io.test.echoJson`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"ok":true}',
    })
    expect(await next.json()).toEqual({ ok: true })
  })
})

describe('Express 5 middleware', () => {
  let server: Server
  let base: string
  beforeAll(async () => {
    const app = express()
    app.use(toNodeHandler(xrpc))
    app.use(express.json())
    app.post('/api/echo', (req, res) => {
      res.json({ echoed: req.body })
    })
    app.get('/', (_req, res) => {
      res.send('home')
    })
    server = createServer(app)
    base = await listen(server)
  })
  afterAll(() => close(server))

  it('serves XRPC with raw bodies while the app keeps its own routes and body parser', async () => {
    const up = await fetch(`${base}/xrpc/io.test.count`, {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: new Uint8Array(5000).fill(2),
    })
    expect(await up.json()).toEqual({ size: 5000, sum: 2 })
    const json = await fetch(`${base}/xrpc/io.test.echoJson`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    })
    expect(await json.json()).toEqual({ a: 1 })
    const own = await fetch(`${base}/api/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"b":2}',
    })
    expect(await own.json()).toEqual({ echoed: { b: 2 } })
    expect(await (await fetch(`${base}/`)).text()).toBe('home')
    const missing = await fetch(`${base}/xrpc/io.test.nope`)
    expect(missing.status).toBe(501)
    // Not ours: Express's own 404, not an XRPC body.
    const notOurs = await fetch(`${base}/nowhere`)
    expect(notOurs.status).toBe(404)
    expect(notOurs.headers.get('content-type')).toContain('text/html')
  })
})
