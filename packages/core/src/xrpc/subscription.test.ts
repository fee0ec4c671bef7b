import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { createNodeWebSocket, type NodeWebSocket } from '../node/node-websocket.js'
import { toNodeHandler } from '../node/to-node-handler.js'
import { decodeFrame, encodeErrorFrame, encodeMessageFrame, type Frame } from './frames.js'
import { XrpcServer } from './server.js'
import { FrameBroadcast } from './subscription.js'
import { FutureCursorError } from './xrpc-error.js'

const live = new FrameBroadcast()
let server: Server
let ws: NodeWebSocket
let url: string
let otherUpgrades = 0

const xrpc = new XrpcServer({
  onInternalError: () => {},
  // A drain timeout far above any stall of a loaded CI machine: with 300 ms, a GC pause or a busy
  // neighbour once cut off the *fast* subscriber of the slow-consumer test as too slow. The slow one is
  // cut off by its queue limit (maxQueue below) when it reads again.
  subscriptionLimits: { highWaterMark: 64 * 1024, drainTimeoutMs: 10_000 },
})
  .subscription('io.test.count', {
    params: { properties: { cursor: { type: 'integer', minimum: 0 }, n: { type: 'integer', default: 3 } } },
    async *handler({ params }) {
      const cursor = (params.cursor as number | undefined) ?? 0
      if (cursor > 100) throw new FutureCursorError()
      for (let i = 1; i <= (params.n as number); i++) {
        yield { $type: 'io.test.count#tick', seq: cursor + i }
      }
      yield { $type: '#info', name: 'Done' }
    },
  })
  .subscription('io.test.boom', {
    async *handler() {
      yield { $type: '#tick', seq: 1 }
      throw new Error('secret internals')
    },
  })
  .subscription('io.test.live', {
    handler: ({ signal }) => live.subscribe({ signal, maxQueue: 200 }),
  })

beforeAll(async () => {
  server = createServer(toNodeHandler(xrpc))
  ws = createNodeWebSocket(xrpc)
  ws.injectWebSocket(server)
  // The app's own WebSocket on another path must keep working.
  const own = new WebSocketServer({ noServer: true })
  server.on('upgrade', (req, socket, head) => {
    if (req.url !== '/app-socket') return
    otherUpgrades++
    own.handleUpgrade(req, socket, head, (c) => c.send('hello from the app'))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  await ws.close()
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
})

function collect(path: string): Promise<{ frames: Frame[]; code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const frames: Frame[] = []
    const c = new WebSocket(url + path)
    c.on('message', (data: Buffer) => frames.push(decodeFrame(new Uint8Array(data))))
    c.on('close', (code, reason) => resolve({ frames, code, reason: reason.toString() }))
    c.on('error', reject)
  })
}

describe('frames', () => {
  it('round-trips message and error frames', () => {
    const bytes = encodeMessageFrame('#commit', { seq: 5, blocks: new Uint8Array([1, 2]) })
    expect(decodeFrame(bytes)).toEqual({
      op: 1,
      t: '#commit',
      body: { seq: 5, blocks: new Uint8Array([1, 2]) },
    })
    expect(decodeFrame(encodeErrorFrame(new FutureCursorError()))).toEqual({
      op: -1,
      body: { error: 'FutureCursor', message: 'Cursor in the future.' },
    })
    // Header bytes are exactly DAG-CBOR {op:1,t:'#commit'} (canonical key order: "t" before "op").
    expect(Buffer.from(bytes.subarray(0, 15)).toString('hex')).toBe('a261746723636f6d6d6974626f7001')
  })
  it('rejects broken framing', () => {
    expect(() => decodeFrame(new Uint8Array([0xa1]))).toThrow()
    expect(() => decodeFrame(encodeMessageFrame('#x', {}).subarray(0, 8))).toThrow()
    const two = encodeMessageFrame('#x', { a: 1 })
    expect(() => decodeFrame(new Uint8Array([...two, 0x01]))).toThrow()
  })
})

describe('subscriptions over ws', () => {
  it('streams frames with short types and closes normally', async () => {
    const { frames, code } = await collect('/xrpc/io.test.count?cursor=10&n=2')
    expect(frames).toEqual([
      { op: 1, t: '#tick', body: { seq: 11 } },
      { op: 1, t: '#tick', body: { seq: 12 } },
      { op: 1, t: '#info', body: { name: 'Done' } },
    ])
    expect(code).toBe(1000)
  })
  it('sends connection-time errors as an error frame, then closes', async () => {
    const future = await collect('/xrpc/io.test.count?cursor=500')
    expect(future.frames).toEqual([
      { op: -1, body: { error: 'FutureCursor', message: 'Cursor in the future.' } },
    ])
    expect(future.code).toBe(1008)
    const bad = await collect('/xrpc/io.test.count?cursor=abc')
    expect(bad.frames).toEqual([
      { op: -1, body: { error: 'InvalidRequest', message: 'cursor must be an integer' } },
    ])
  })
  it('turns a handler throw into an error frame without internals', async () => {
    const { frames, code, reason } = await collect('/xrpc/io.test.boom')
    expect(frames).toEqual([
      { op: 1, t: '#tick', body: { seq: 1 } },
      { op: -1, body: { error: 'InternalServerError', message: 'Internal Server Error' } },
    ])
    expect([code, reason]).toEqual([1008, 'InternalServerError'])
  })
  it('refuses unknown xrpc streams with 501 when it is the only upgrade listener', async () => {
    const alone = createServer()
    createNodeWebSocket(xrpc).injectWebSocket(alone)
    await new Promise<void>((r) => alone.listen(0, '127.0.0.1', r))
    const port = (alone.address() as AddressInfo).port
    const status = await new Promise<number | undefined>((resolve) => {
      const c = new WebSocket(`ws://127.0.0.1:${port}/xrpc/io.test.nope`)
      c.on('unexpected-response', (_req, res) => resolve(res.statusCode))
      c.on('error', () => resolve(undefined))
    })
    expect(status).toBe(501)
    alone.closeAllConnections()
    await new Promise((r) => alone.close(r))
  })
  it('leaves other upgrades alone', async () => {
    const msg = await new Promise<string>((resolve, reject) => {
      const c = new WebSocket(`${url}/app-socket`)
      c.on('message', (d) => {
        resolve(d.toString())
        c.close()
      })
      c.on('error', reject)
    })
    expect(msg).toBe('hello from the app')
    expect(otherUpgrades).toBe(1)
  })
  it('answers HTTP GET on a subscription with 426 and POST with 405', async () => {
    const http = url.replace('ws:', 'http:')
    const get = await fetch(`${http}/xrpc/io.test.count`)
    expect(get.status).toBe(426)
    expect((await get.json()).error).toBe('UpgradeRequired')
    expect((await fetch(`${http}/xrpc/io.test.count`, { method: 'POST' })).status).toBe(405)
  })
  it('cuts off a slow consumer while a fast one receives everything', async () => {
    const fastFrames: number[] = []
    const fast = new WebSocket(`${url}/xrpc/io.test.live`)
    fast.on('message', (d: Buffer) =>
      fastFrames.push((decodeFrame(new Uint8Array(d)).body as { seq: number }).seq),
    )
    const slow = new WebSocket(`${url}/xrpc/io.test.live`)
    const slowFrames: Frame[] = []
    slow.on('message', (d: Buffer) => slowFrames.push(decodeFrame(new Uint8Array(d))))
    const slowClosed = new Promise<number>((r) => slow.on('close', (code) => r(code)))
    await Promise.all([fast, slow].map((c) => new Promise((r) => c.once('open', r))))
    await expect.poll(() => live.size).toBe(2)
    // The slow client stops reading from its TCP socket.
    ;(slow as unknown as { _socket: { pause(): void } })._socket.pause()
    const payload = new Uint8Array(16 * 1024)
    const total = 2000
    for (let seq = 1; seq <= total; seq++) {
      live.publish('#tick', { seq, payload })
      if (seq % 50 === 0) await new Promise((r) => setImmediate(r))
    }
    // Generous: 32 MB to the fast client on a loaded 2-core CI machine; what matters is that it gets all.
    await expect.poll(() => fastFrames.length, { timeout: 60_000 }).toBe(total)
    expect(fastFrames).toEqual(Array.from({ length: total }, (_, i) => i + 1))
    ;(slow as unknown as { _socket: { resume(): void } })._socket.resume()
    expect(await slowClosed).toBe(1008)
    expect(slowFrames.length).toBeLessThan(total)
    expect(slowFrames.at(-1)).toEqual({
      op: -1,
      body: { error: 'ConsumerTooSlow', message: 'Stream consumer too slow' },
    })
    fast.close()
    await expect.poll(() => live.size).toBe(0)
  }, 90_000)

  it('cuts off a consumer whose socket stays full past the drain timeout, without it reading again', async () => {
    const stream = new FrameBroadcast()
    const strict = new XrpcServer({
      subscriptionLimits: { highWaterMark: 64 * 1024, drainTimeoutMs: 200 },
    }).subscription('io.test.live', { handler: ({ signal }) => stream.subscribe({ signal }) })
    const srv = createServer(toNodeHandler(strict))
    const sockets = createNodeWebSocket(strict)
    sockets.injectWebSocket(srv)
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
    try {
      const c = new WebSocket(`ws://127.0.0.1:${(srv.address() as AddressInfo).port}/xrpc/io.test.live`)
      const closed = new Promise<number>((r) => c.on('close', (code) => r(code)))
      await new Promise((r) => c.once('open', r))
      await expect.poll(() => stream.size).toBe(1)
      ;(c as unknown as { _socket: { pause(): void } })._socket.pause()
      const payload = new Uint8Array(64 * 1024)
      // Far more than the socket buffers hold, but under the queue limit: only the timeout can end it.
      for (let seq = 1; seq <= 300; seq++) stream.publish('#tick', { seq, payload })
      await expect.poll(() => stream.size, { timeout: 10_000 }).toBe(0)
      ;(c as unknown as { _socket: { resume(): void } })._socket.resume()
      expect(await closed).toBe(1008)
    } finally {
      await sockets.close()
      srv.closeAllConnections()
      await new Promise((r) => srv.close(r))
    }
  })
})
