import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toNodeHandler } from '../node/to-node-handler.js'
import { XrpcServer } from './server.js'
import { AuthRequiredError, InvalidRequestError } from './xrpc-error.js'

const servers: Server[] = []
let pds: string
let upstream: string

async function start(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const s = createServer(handler)
  servers.push(s)
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`
}

beforeAll(async () => {
  const appview = new XrpcServer()
    .query('app.test.getThing', ({ request, params }) => ({
      encoding: 'application/json',
      body: {
        auth: request.headers.get('authorization'),
        params,
        labelers: request.headers.get('atproto-accept-labelers'),
      },
      headers: { 'atproto-repo-rev': 'rev1', 'x-internal': 'hidden' },
    }))
    .procedure('app.test.upload', {
      input: { encoding: '*/*' },
      handler: async ({ input }) => ({
        encoding: 'application/json',
        body: {
          size: (await new Response(input!.body as ReadableStream).arrayBuffer()).byteLength,
          type: input!.encoding,
        },
      }),
    })
    .query('app.test.fails', () => {
      throw new InvalidRequestError('nope', 'NotFound')
    })
  upstream = await start(toNodeHandler(appview))

  const local = new XrpcServer({
    onInternalError: () => {},
    proxy: {
      resolveService: async (did, id) =>
        did === 'did:web:appview.example' && id === 'bsky_appview'
          ? upstream
          : did === 'did:web:down.example'
            ? 'http://127.0.0.1:1'
            : null,
      authenticate: async ({ request }) => {
        if (request.headers.get('authorization') !== 'Bearer user') throw new AuthRequiredError()
        return { did: 'did:plc:alice' }
      },
      mintServiceAuth: async ({ iss, aud, lxm }) => `svc.${iss}.${aud}.${lxm}`,
      isProtected: (nsid) => nsid === 'com.atproto.admin.deleteAccount',
    },
  }).query('com.atproto.local.thing', () => ({ encoding: 'application/json', body: { local: true } }))
  pds = await start(toNodeHandler(local))
})
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections()
    await new Promise((r) => s.close(r))
  }
})

const proxied = (path: string, init: RequestInit = {}, target = 'did:web:appview.example#bsky_appview') =>
  fetch(pds + path, {
    ...init,
    headers: { authorization: 'Bearer user', 'atproto-proxy': target, ...init.headers },
  })

describe('atproto-proxy', () => {
  it('forwards a query with a service-auth token and the allowed headers', async () => {
    const res = await proxied('/xrpc/app.test.getThing?a=1', {
      headers: { 'atproto-accept-labelers': 'did:plc:lab' },
    })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      auth: 'Bearer svc.did:plc:alice.did:web:appview.example#bsky_appview.app.test.getThing',
      params: { a: '1' },
      labelers: 'did:plc:lab',
    })
    expect(res.headers.get('atproto-repo-rev')).toBe('rev1')
    expect(res.headers.get('x-internal')).toBeNull()
  })
  it('streams a procedure body through', async () => {
    const res = await proxied('/xrpc/app.test.upload', {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg' },
      body: new Uint8Array(300_000),
    })
    expect(await res.json()).toEqual({ size: 300_000, type: 'image/jpeg' })
  })
  it('passes upstream errors through', async () => {
    const res = await proxied('/xrpc/app.test.fails')
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({ error: 'NotFound', message: 'nope' })
  })
  it('refuses bad headers, unknown services, protected methods and anonymous callers', async () => {
    const err = async (res: Response) => [res.status, (await res.json()).error]
    expect(await err(await proxied('/xrpc/app.test.getThing', {}, 'did:web:appview.example'))).toEqual([
      400,
      'InvalidRequest',
    ])
    expect(await err(await proxied('/xrpc/app.test.getThing', {}, 'not-a-did#x'))).toEqual([
      400,
      'InvalidRequest',
    ])
    expect(await err(await proxied('/xrpc/app.test.getThing', {}, 'did:web:unknown.example#x'))).toEqual([
      400,
      'InvalidRequest',
    ])
    expect(await err(await proxied('/xrpc/com.atproto.admin.deleteAccount'))).toEqual([400, 'InvalidToken'])
    expect(
      await err(
        await fetch(`${pds}/xrpc/app.test.getThing`, {
          headers: { 'atproto-proxy': 'did:web:appview.example#bsky_appview' },
        }),
      ),
    ).toEqual([401, 'AuthenticationRequired'])
    expect(await err(await proxied('/xrpc/app.test.getThing', {}, 'did:web:down.example#x'))).toEqual([
      502,
      'UpstreamFailure',
    ])
  })
  it('serves local methods locally and 501s unknown ones without the header', async () => {
    expect(await (await proxied('/xrpc/com.atproto.local.thing')).json()).toEqual({ local: true })
    expect((await fetch(`${pds}/xrpc/app.test.getThing`)).status).toBe(501)
  })
})
