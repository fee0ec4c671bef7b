import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createNodeWebSocket } from '../node/node-websocket.js'
import { toNodeHandler } from '../node/to-node-handler.js'
import { decodeFrame, type Frame } from '../xrpc/frames.js'
import { XrpcServer } from '../xrpc/server.js'
import { Lexicons } from './lexicons.js'
import { lexiconValidator } from './xrpc-validator.js'

const lexicons = new Lexicons([
  {
    lexicon: 1,
    id: 'io.test.get',
    defs: {
      main: {
        type: 'query',
        parameters: {
          type: 'params',
          required: ['actor'],
          properties: {
            actor: { type: 'string', format: 'at-identifier' },
            limit: { type: 'integer', minimum: 1, maximum: 10, default: 5 },
          },
        },
        output: {
          encoding: 'application/json',
          schema: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } },
        },
      },
    },
  },
  {
    lexicon: 1,
    id: 'io.test.put',
    defs: {
      main: {
        type: 'procedure',
        input: {
          encoding: 'application/json',
          schema: {
            type: 'object',
            required: ['post'],
            properties: { post: { type: 'ref', ref: 'io.test.defs#post' } },
          },
        },
      },
    },
  },
  {
    lexicon: 1,
    id: 'io.test.defs',
    defs: {
      post: {
        type: 'object',
        required: ['text'],
        properties: { text: { type: 'string', maxGraphemes: 3 }, link: { type: 'cid-link' } },
      },
    },
  },
])

lexicons.add({
  lexicon: 1,
  id: 'io.test.stream',
  defs: {
    main: { type: 'subscription', message: { schema: { type: 'union', refs: ['#tick'] } } },
    tick: { type: 'object', required: ['seq'], properties: { seq: { type: 'integer' } } },
  },
})

const server = (validateOutput: boolean, output: unknown) =>
  new XrpcServer({ validator: lexiconValidator(lexicons, { validateOutput }), onInternalError: () => {} })
    .query('io.test.get', ({ params }) => ({
      encoding: 'application/json',
      body: output ?? { n: params.limit },
    }))
    .query('io.test.byHand', {
      params: { type: 'params', properties: { did: { type: 'string', format: 'did' } } } as never,
      handler: ({ params }) => ({ encoding: 'application/json', body: params }),
    })
    .procedure('io.test.put', { input: { encoding: 'application/json' }, handler: () => undefined })

const get = async (xrpc: XrpcServer, path: string) => {
  const res = await xrpc.fetch(new Request(`http://localhost/xrpc/${path}`))
  return { status: res.status, body: await res.json().catch(() => null) }
}
const post = async (xrpc: XrpcServer, body: unknown) => {
  const res = await xrpc.fetch(
    new Request('http://localhost/xrpc/io.test.put', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }),
  )
  return { status: res.status, body: await res.json().catch(() => null) }
}

describe('lexicon validation on the XRPC server', () => {
  const xrpc = server(true, undefined)

  it('decodes query params by the lexicon (defaults applied) and refuses bad ones naming them', async () => {
    expect(await get(xrpc, 'io.test.get?actor=alice.test')).toEqual({ status: 200, body: { n: 5 } })
    expect(await get(xrpc, 'io.test.get?actor=alice.test&limit=11')).toEqual({
      status: 400,
      body: { error: 'InvalidRequest', message: 'limit can not be greater than 10' },
    })
    expect((await get(xrpc, 'io.test.get?actor=no+way')).body.message).toBe(
      'actor must be a valid did or a handle',
    )
    expect((await get(xrpc, 'io.test.get')).body.message).toBe('Params must have the property "actor"')
    expect((await get(xrpc, 'io.test.byHand?did=nope')).body).toEqual({
      error: 'InvalidRequest',
      message: 'did must be a valid did',
    })
  })

  it('validates procedure JSON input through refs (JSON form of links)', async () => {
    expect(
      (
        await post(xrpc, {
          post: {
            text: 'abc',
            link: { $link: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm' },
          },
        })
      ).status,
    ).toBe(200)
    expect(await post(xrpc, { post: { text: 'abcd' } })).toEqual({
      status: 400,
      body: { error: 'InvalidRequest', message: 'Input/post/text must not be longer than 3 graphemes' },
    })
    expect((await post(xrpc, { post: { text: 'a', link: 'x' } })).body.message).toBe(
      'Input/post/link must be a CID',
    )
    expect((await post(xrpc, {})).body.message).toBe('Input must have the property "post"')
  })

  it('an output that breaks its lexicon is a 500 when output validation is on, sent as is when off', async () => {
    const bad = { n: 'many' }
    expect((await get(server(true, bad), 'io.test.get?actor=a.test')).status).toBe(500)
    expect(await get(server(false, bad), 'io.test.get?actor=a.test')).toEqual({ status: 200, body: bad })
  })
})

describe('lexicon validation of subscription messages', () => {
  const frames = async (validateOutput: boolean) => {
    const xrpc = new XrpcServer({
      validator: lexiconValidator(lexicons, { validateOutput }),
      onInternalError: () => {},
    }).subscription('io.test.stream', {
      async *handler() {
        yield { $type: '#tick', seq: 1 }
        yield { t: '#tick', seq: 'two' }
        yield { $type: '#tick', seq: 3 }
      },
    })
    const http = createServer(toNodeHandler(xrpc))
    const ws = createNodeWebSocket(xrpc)
    ws.injectWebSocket(http)
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r))
    const { port } = http.address() as AddressInfo
    const got: Frame[] = []
    const client = new WebSocket(`ws://127.0.0.1:${port}/xrpc/io.test.stream`)
    client.on('message', (data) => got.push(decodeFrame(new Uint8Array(data as Buffer))))
    await new Promise((r) => client.on('close', r))
    await ws.close()
    http.closeAllConnections()
    await new Promise((r) => http.close(r))
    return got
  }

  it('sends valid messages and cuts the stream with a 500 error frame at an invalid one', async () => {
    const got = await frames(true)
    expect(got).toHaveLength(2)
    expect(got[0]).toMatchObject({ op: 1, t: '#tick', body: { seq: 1 } })
    expect(got[1]).toMatchObject({ op: -1, body: { error: 'InternalServerError' } })
    expect(await frames(false)).toHaveLength(3)
  })
})
