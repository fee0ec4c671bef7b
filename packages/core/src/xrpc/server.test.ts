import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cidForBytes } from '../data/cid.js'
import { toNodeHandler } from '../node/to-node-handler.js'
import { XrpcServer } from './server.js'
import { AuthRequiredError, InvalidRequestError, RateLimitExceededError } from './xrpc-error.js'

let server: Server
let base: string
let limited = 0
let lastAbort: AbortSignal | undefined

const xrpc = new XrpcServer({
  limits: { json: 1024, blob: 64 * 1024 },
  onInternalError: () => {},
  validator: {
    output(nsid, body) {
      if (nsid === 'io.test.badOutput') throw new Error(`secret detail ${JSON.stringify(body)}`)
    },
  },
})
  .route('GET', '/xrpc/_health', () => Response.json({ version: 'test' }))
  .query('io.test.echoParams', {
    params: {
      type: 'params',
      required: ['name'],
      properties: {
        name: { type: 'string', maxLength: 10 },
        limit: { type: 'integer', minimum: 1, maximum: 100, default: 50 },
        flag: { type: 'boolean' },
        tags: { type: 'array', items: { type: 'string' } },
      },
    },
    output: { encoding: 'application/json' },
    handler: ({ params }) => ({ encoding: 'application/json', body: params }),
  })
  .procedure('io.test.echoJson', {
    input: { encoding: 'application/json' },
    output: { encoding: 'application/json' },
    handler: ({ input }) => ({
      encoding: 'application/json',
      body: { got: input?.body, encoding: input?.encoding },
    }),
  })
  .procedure('io.test.upload', {
    input: { encoding: '*/*' },
    handler: async ({ input }) => {
      const bytes = new Uint8Array(await new Response(input!.body as ReadableStream).arrayBuffer())
      return { encoding: 'application/json', body: { size: bytes.byteLength, encoding: input!.encoding } }
    },
  })
  .procedure('io.test.noInput', () => undefined)
  .query('io.test.throws', () => {
    throw new Error('database password is hunter2')
  })
  .query('io.test.custom', () => {
    throw new InvalidRequestError('no such thing', 'RecordNotFound')
  })
  .query('io.test.badOutput', {
    output: { encoding: 'application/json' },
    handler: () => ({ encoding: 'application/json', body: { a: 1 } }),
  })
  .query('io.test.wrongEncoding', {
    output: { encoding: 'application/json' },
    handler: () => ({ encoding: 'text/plain', body: 'hi' }),
  })
  .query('io.test.auth', {
    auth: ({ request }) => {
      if (request.headers.get('authorization') !== 'Bearer good')
        throw new AuthRequiredError('Bad token', 'InvalidToken')
      return { did: 'did:example:alice' }
    },
    handler: ({ auth }) => ({ encoding: 'application/json', body: auth }),
  })
  .query('io.test.limited', {
    rateLimit: () => {
      limited++
      const status = { limit: 2, remaining: 2 - limited, resetAt: Date.now() + 60_000, windowSeconds: 60 }
      if (limited > 2) throw new RateLimitExceededError(status)
      return status
    },
    handler: () => ({ encoding: 'application/json', body: { ok: true } }),
  })
  .query('io.test.lex', () => {
    const cid = cidForBytes(new Uint8Array([1, 2, 3]))
    return {
      encoding: 'application/json',
      body: { cid, bytes: new Uint8Array([0, 1, 2, 3]), nested: [{ cid }] },
    }
  })
  .query('io.test.cookies', ({ responseHeaders }) => {
    responseHeaders.append('set-cookie', 'a=1; Path=/')
    responseHeaders.append('set-cookie', 'b=2; Path=/')
    return { encoding: 'text/plain', body: 'ok' }
  })
  .query('io.test.slowStream', ({ signal }) => {
    lastAbort = signal
    let n = 0
    return {
      encoding: 'application/octet-stream',
      body: new ReadableStream({
        async pull(c) {
          await new Promise((r) => setTimeout(r, 5))
          c.enqueue(new Uint8Array(1024).fill(n++ % 256))
        },
      }),
    }
  })

beforeAll(async () => {
  server = createServer(toNodeHandler(xrpc))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
})

async function call(path: string, init?: RequestInit) {
  const res = await fetch(base + path, init)
  const text = await res.text()
  let body: any = text
  try {
    body = JSON.parse(text)
  } catch {}
  return { status: res.status, body, headers: res.headers }
}

describe('routing and methods', () => {
  it('answers plain routes', async () => {
    expect(await call('/xrpc/_health')).toMatchObject({ status: 200, body: { version: 'test' } })
  })
  it('501 for unknown methods', async () => {
    expect(await call('/xrpc/io.test.nope')).toMatchObject({
      status: 501,
      body: { error: 'MethodNotImplemented', message: 'Method Not Implemented' },
    })
  })
  it('400 for malformed xrpc paths', async () => {
    for (const p of ['/xrpc/a..b', '/xrpc/io.test.echoJson/extra', '/xrpc/%00', '/xrpc/-abc']) {
      expect(await call(p)).toMatchObject({
        status: 400,
        body: { error: 'InvalidRequest', message: 'invalid xrpc path' },
      })
    }
  })
  it('404 JSON for paths it does not own when used without next()', async () => {
    expect(await call('/elsewhere')).toMatchObject({ status: 404, body: { error: 'NotFound' } })
  })
  it('rejects the wrong HTTP method with 405 MethodNotAllowed and an Allow header', async () => {
    expect(await call('/xrpc/io.test.echoParams?name=a', { method: 'POST' })).toMatchObject({
      status: 405,
      body: { error: 'MethodNotAllowed', message: 'Incorrect HTTP method (POST) expected GET' },
    })
    const wrong = await fetch(`${base}/xrpc/io.test.echoJson`)
    expect(wrong.status).toBe(405)
    expect(wrong.headers.get('allow')).toBe('POST')
    expect(await wrong.json()).toEqual({
      error: 'MethodNotAllowed',
      message: 'Incorrect HTTP method (GET) expected POST',
    })
    const put = await fetch(`${base}/xrpc/io.test.echoParams`, { method: 'PUT', body: '{}' })
    expect(put.status).toBe(405)
    expect(put.headers.get('allow')).toBe('GET, HEAD')
  })
  it('HEAD on a query: headers, no body', async () => {
    const res = await fetch(`${base}/xrpc/io.test.echoParams?name=a`, { method: 'HEAD' })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(await res.text()).toBe('')
  })
})

describe('params', () => {
  it('decodes and applies defaults', async () => {
    const r = await call('/xrpc/io.test.echoParams?name=bob&flag=true&tags=a&tags=b&ignored=1')
    expect(r).toMatchObject({ status: 200, body: { name: 'bob', limit: 50, flag: true, tags: ['a', 'b'] } })
    expect(r.body.ignored).toBeUndefined()
  })
  it('400 naming the field', async () => {
    const cases: [string, string][] = [
      ['', 'Params must have the property "name"'],
      ['name=a&limit=abc', 'limit must be an integer'],
      ['name=a&limit=1.5', 'limit must be an integer'],
      ['name=a&limit=0', 'limit can not be less than 1'],
      ['name=a&limit=101', 'limit can not be greater than 100'],
      ['name=a&flag=yes', 'flag must be a boolean'],
      ['name=aaaaaaaaaaaa', 'name must not be longer than 10 characters'],
      ['name=a&name=b', 'name must be a single value'],
      ['name=a&__proto__=x', 'Invalid query parameter: __proto__'],
    ]
    for (const [q, message] of cases) {
      expect(await call(`/xrpc/io.test.echoParams?${q}`)).toMatchObject({
        status: 400,
        body: { error: 'InvalidRequest', message },
      })
    }
  })
})

describe('input', () => {
  const post = (path: string, body: BodyInit | null, headers: Record<string, string> = {}) =>
    call(path, { method: 'POST', body, headers })

  it('parses JSON input', async () => {
    expect(
      await post('/xrpc/io.test.echoJson', '{"a":[1,2]}', {
        'content-type': 'application/json; charset=utf-8',
      }),
    ).toMatchObject({
      status: 200,
      body: { got: { a: [1, 2] }, encoding: 'application/json' },
    })
  })
  it('400 on malformed JSON, bad UTF-8, missing or wrong content type, missing body', async () => {
    const json = { 'content-type': 'application/json' }
    expect(await post('/xrpc/io.test.echoJson', '{"a":', json)).toMatchObject({
      status: 400,
      body: { message: 'Request body is not valid JSON' },
    })
    expect(await post('/xrpc/io.test.echoJson', new Uint8Array([0x22, 0xff, 0x22]), json)).toMatchObject({
      status: 400,
    })
    expect(await post('/xrpc/io.test.echoJson', '{}', { 'content-type': 'text/plain' })).toMatchObject({
      status: 400,
      body: { message: 'Wrong request encoding (Content-Type): text/plain' },
    })
    expect(await post('/xrpc/io.test.echoJson', new Uint8Array([123, 125]))).toMatchObject({
      status: 400,
      body: { message: 'Request encoding (Content-Type) required but not provided' },
    })
    expect(await post('/xrpc/io.test.echoJson', null, json)).toMatchObject({
      status: 400,
      body: { message: 'A request body is expected but none was provided' },
    })
  })
  it('400 when a body is sent to a method without input', async () => {
    expect(await post('/xrpc/io.test.noInput', '{}', { 'content-type': 'application/json' })).toMatchObject({
      status: 400,
      body: { message: 'A request body was provided when none was expected' },
    })
    expect((await post('/xrpc/io.test.noInput', null)).status).toBe(200)
  })
  it('413 past the JSON limit', async () => {
    const big = JSON.stringify({ s: 'x'.repeat(2000) })
    expect(await post('/xrpc/io.test.echoJson', big, { 'content-type': 'application/json' })).toMatchObject({
      status: 413,
      body: { error: 'PayloadTooLarge' },
    })
  })
  it('streams other encodings and enforces the blob limit while streaming', async () => {
    expect(
      await post('/xrpc/io.test.upload', new Uint8Array(1000), { 'content-type': 'image/png' }),
    ).toMatchObject({
      status: 200,
      body: { size: 1000, encoding: 'image/png' },
    })
    // Declared too large: refused before reading.
    expect(
      (await post('/xrpc/io.test.upload', new Uint8Array(65 * 1024), { 'content-type': 'image/png' })).status,
    ).toBe(413)
    // Chunked (no content-length): counted as it arrives.
    const chunks = new ReadableStream({
      start(c) {
        for (let i = 0; i < 80; i++) c.enqueue(new Uint8Array(1024))
        c.close()
      },
    })
    const r = await call('/xrpc/io.test.upload', {
      method: 'POST',
      body: chunks,
      headers: { 'content-type': 'application/octet-stream' },
      // @ts-expect-error Node needs duplex for a stream body
      duplex: 'half',
    })
    expect(r).toMatchObject({ status: 413, body: { error: 'PayloadTooLarge' } })
  })
  it('decodes gzip bodies and counts the decoded size', async () => {
    const ok = gzipSync(new Uint8Array(10_000))
    expect(
      await post('/xrpc/io.test.upload', ok, { 'content-type': 'image/png', 'content-encoding': 'gzip' }),
    ).toMatchObject({
      status: 200,
      body: { size: 10_000 },
    })
    const bomb = gzipSync(new Uint8Array(10 * 1024 * 1024))
    expect(
      (await post('/xrpc/io.test.upload', bomb, { 'content-type': 'image/png', 'content-encoding': 'gzip' }))
        .status,
    ).toBe(413)
    expect(
      (
        await post('/xrpc/io.test.upload', new Uint8Array(10), {
          'content-type': 'image/png',
          'content-encoding': 'gzip',
        })
      ).status,
    ).toBe(400)
    expect(
      (
        await post('/xrpc/io.test.upload', new Uint8Array(10), {
          'content-type': 'image/png',
          'content-encoding': 'zstd',
        })
      ).status,
    ).toBe(415)
  })
})

describe('errors, output and headers', () => {
  it('500 without leaking internals', async () => {
    const r = await call('/xrpc/io.test.throws')
    expect(r).toMatchObject({
      status: 500,
      body: { error: 'InternalServerError', message: 'Internal Server Error' },
    })
    expect(JSON.stringify(r.body)).not.toContain('hunter2')
    const o = await call('/xrpc/io.test.badOutput')
    expect(o.status).toBe(500)
    expect(JSON.stringify(o.body)).not.toContain('secret')
    expect((await call('/xrpc/io.test.wrongEncoding')).status).toBe(500)
  })
  it('custom error names', async () => {
    expect(await call('/xrpc/io.test.custom')).toMatchObject({
      status: 400,
      body: { error: 'RecordNotFound', message: 'no such thing' },
    })
  })
  it('401 with WWW-Authenticate', async () => {
    const r = await call('/xrpc/io.test.auth')
    expect(r).toMatchObject({ status: 401, body: { error: 'InvalidToken', message: 'Bad token' } })
    expect(r.headers.get('www-authenticate')).toBe('Bearer')
    expect(await call('/xrpc/io.test.auth', { headers: { authorization: 'Bearer good' } })).toMatchObject({
      status: 200,
      body: { did: 'did:example:alice' },
    })
  })
  it('429 with RateLimit headers, and status headers on success', async () => {
    const ok = await call('/xrpc/io.test.limited')
    expect(ok.status).toBe(200)
    expect(ok.headers.get('ratelimit-limit')).toBe('2')
    expect(ok.headers.get('ratelimit-remaining')).toBe('1')
    await call('/xrpc/io.test.limited')
    const r = await call('/xrpc/io.test.limited')
    expect(r).toMatchObject({ status: 429, body: { error: 'RateLimitExceeded' } })
    expect(r.headers.get('ratelimit-policy')).toBe('2;w=60')
    expect(r.headers.get('ratelimit-remaining')).toBe('0')
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(50)
  })
  it('encodes CIDs and bytes as atproto JSON', async () => {
    const cid = cidForBytes(new Uint8Array([1, 2, 3])).toString()
    expect((await call('/xrpc/io.test.lex')).body).toEqual({
      cid: { $link: cid },
      bytes: { $bytes: 'AAECAw' },
      nested: [{ cid: { $link: cid } }],
    })
  })
  it('passes multiple Set-Cookie headers through', async () => {
    const res = await fetch(`${base}/xrpc/io.test.cookies`)
    expect(res.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; Path=/'])
  })
  it('CORS preflight and headers on every response', async () => {
    const pre = await fetch(`${base}/xrpc/io.test.echoJson`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,dpop,atproto-proxy',
      },
    })
    expect(pre.status).toBe(204)
    expect(pre.headers.get('access-control-allow-origin')).toBe('*')
    expect(pre.headers.get('access-control-allow-headers')).toBe('authorization,dpop,atproto-proxy')
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST')
    expect(pre.headers.get('access-control-max-age')).toBe('86400')
    const err = await fetch(`${base}/xrpc/io.test.nope`)
    expect(err.headers.get('access-control-allow-origin')).toBe('*')
    expect(err.headers.get('access-control-expose-headers')).toContain('RateLimit-Remaining')
    expect(err.headers.get('access-control-expose-headers')).toContain('DPoP-Nonce')
  })
  it('aborts the handler signal and cancels the stream when the client goes away', async () => {
    const ac = new AbortController()
    const res = await fetch(`${base}/xrpc/io.test.slowStream`, { signal: ac.signal })
    const reader = res.body!.getReader()
    await reader.read()
    ac.abort()
    await expect.poll(() => lastAbort?.aborted, { timeout: 2000 }).toBe(true)
  })
})
