import { createServer, type Server } from 'node:http'
import { type AddressInfo, connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { XrpcServer } from '../xrpc/server.js'
import { clientErrorAnswer, installClientErrorHandler } from './client-error.js'
import { createNodeWebSocket } from './node-websocket.js'
import { toNodeHandler } from './to-node-handler.js'

const xrpc = new XrpcServer().query('io.test.ping', () => ({ encoding: 'application/json', body: { ok: 1 } }))

/** Send raw bytes and collect everything until the server closes the connection. */
function raw(port: number, data: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let out = ''
    socket.on('data', (c) => {
      out += c.toString('latin1')
    })
    socket.on('error', (err) => (out ? resolve(out) : reject(err)))
    socket.on('close', () => resolve(out))
    socket.write(data)
  })
}

function parse(response: string): { status: number; headers: string; body: unknown } {
  const split = response.indexOf('\r\n\r\n')
  const head = response.slice(0, split)
  return { status: Number(head.split(' ')[1]), headers: head, body: JSON.parse(response.slice(split + 4)) }
}

describe('XRPC answers to requests the HTTP parser rejects', () => {
  let server: Server
  let port: number
  beforeAll(async () => {
    server = createServer(toNodeHandler(xrpc))
    installClientErrorHandler(server)
    installClientErrorHandler(server) // idempotent
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    port = (server.address() as AddressInfo).port
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  })

  it('installs one listener however often it is installed', () => {
    expect(server.listenerCount('clientError')).toBe(1)
  })

  it.each([
    [
      'Transfer-Encoding with Content-Length',
      'POST /xrpc/io.test.ping HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ],
    [
      'a control byte in a header value',
      'GET /xrpc/io.test.ping HTTP/1.1\r\nHost: a\r\nX-Bad: a\x01b\r\n\r\n',
    ],
    ['a request line that is not HTTP', 'HELLO THERE\r\n\r\n'],
    ['a space in a header name', 'GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n'],
    [
      'a broken chunk size',
      'POST /xrpc/x.y.z HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    ],
  ])('%s: 400 InvalidRequest JSON, connection closed', async (_name, request) => {
    const response = parse(await raw(port, request))
    expect(response.status).toBe(400)
    expect(response.headers).toMatch(/content-type: application\/json/i)
    expect(response.headers).toMatch(/connection: close/i)
    expect(response.body).toEqual({ error: 'InvalidRequest', message: expect.stringMatching(/^Malformed/) })
  })

  it('oversize headers: 431 with a JSON body', async () => {
    const response = parse(
      await raw(port, `GET /xrpc/io.test.ping HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`),
    )
    expect(response.status).toBe(431)
    expect(response.body).toEqual({ error: 'RequestHeaderFieldsTooLarge', message: expect.any(String) })
  })

  it('answers a HEAD request without a body', async () => {
    const out = await raw(
      port,
      `HEAD /xrpc/io.test.ping HTTP/1.1\r\nHost: a\r\nX-Big: ${'a'.repeat(17_000)}\r\n\r\n`,
    )
    expect(out).toMatch(/^HTTP\/1\.1 431 /)
    expect(out.endsWith('\r\n\r\n')).toBe(true)
  })

  it('answers a garbage request that follows a good one on a keep-alive connection', async () => {
    const out = await raw(
      port,
      'GET /xrpc/io.test.ping HTTP/1.1\r\nHost: a\r\n\r\nGET /xrpc/io.test.ping HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n',
    )
    const [first, second] = out.split(/(?=HTTP\/1\.1 )/)
    expect(first).toMatch(/^HTTP\/1\.1 200/)
    expect(first).toContain('{"ok":1}')
    expect(parse(second!).status).toBe(400)
  })

  it('keeps serving after malformed requests', async () => {
    await Promise.all(Array.from({ length: 20 }, () => raw(port, '\x00\x01\x02 nope\r\n\r\n')))
    expect(await (await fetch(`http://127.0.0.1:${port}/xrpc/io.test.ping`)).json()).toEqual({ ok: 1 })
  })

  it('maps parser codes to statuses', () => {
    expect(clientErrorAnswer('HPE_UNEXPECTED_CONTENT_LENGTH')).toMatchObject({
      status: 400,
      message: 'Malformed HTTP request (unexpected content length)',
    })
    expect(clientErrorAnswer('ERR_HTTP_REQUEST_TIMEOUT').status).toBe(408)
    expect(clientErrorAnswer(undefined).status).toBe(400)
  })
})

describe('injectWebSocket', () => {
  it('installs the clientError answer on the server it is given', async () => {
    const server = createServer(toNodeHandler(xrpc))
    createNodeWebSocket(xrpc).injectWebSocket(server)
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const { port } = server.address() as AddressInfo
    const response = parse(
      await raw(port, 'GET /xrpc/io.test.ping HTTP/1.1\r\nHost: a\r\nX: \x7f\x00\r\n\r\n'),
    )
    expect(response.status).toBe(400)
    expect(server.listenerCount('clientError')).toBe(1)
    await new Promise((r) => server.close(r))
  })
})
