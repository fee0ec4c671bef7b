// Bad atproto data from a client surfaces as 400 InvalidRequest through the one error mapping.
import { describe, expect, it } from 'vitest'
import { decodeCbor, encodeCbor } from '../data/cbor.js'
import { InvalidCborError, InvalidCidError, InvalidJsonDataError } from '../data/errors.js'
import { readCarBytes } from '../repo/car.js'
import { CarError } from '../repo/errors.js'
import { XrpcServer } from './server.js'
import { toXrpcError } from './xrpc-error.js'

describe('data errors map to 400', () => {
  it('maps every data error and CAR errors to InvalidRequest, others stay 500', () => {
    for (const err of [
      new InvalidCborError('float', 'floats are not allowed'),
      new InvalidJsonDataError('bad'),
      new InvalidCidError('bad'),
      new CarError('bad'),
    ]) {
      const x = toXrpcError(err)
      expect([err.name, x.status, x.toJSON()]).toEqual([
        err.name,
        400,
        { error: 'InvalidRequest', message: err.message },
      ])
    }
    expect(toXrpcError(new Error('secret')).status).toBe(500)
  })

  it('a handler decoding a malformed CBOR or CAR body answers 400', async () => {
    const xrpc = new XrpcServer({ onInternalError: () => {} }).procedure('io.test.cbor', {
      input: { encoding: '*/*' },
      handler: async ({ input }) => {
        const bytes = new Uint8Array(await new Response(input!.body as ReadableStream).arrayBuffer())
        const value =
          input!.encoding === 'application/vnd.ipld.car' ? readCarBytes(bytes).roots : decodeCbor(bytes)
        return { encoding: 'application/json', body: { ok: value !== undefined } }
      },
    })
    const post = (body: Uint8Array, type: string) =>
      xrpc.fetch(
        new Request('http://localhost/xrpc/io.test.cbor', {
          method: 'POST',
          body,
          headers: { 'content-type': type },
        }),
      )
    const ok = await post(encodeCbor({ a: 1 }), 'application/cbor')
    expect(ok.status).toBe(200)
    for (const [bytes, type] of [
      [Uint8Array.from([0xfb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]), 'application/cbor'],
      [Uint8Array.from([0xa2, 0x61, 0x62, 0x01, 0x61, 0x61, 0x02]), 'application/cbor'],
      [Uint8Array.from([0x0a, 0xa1]), 'application/vnd.ipld.car'],
    ] as const) {
      const res = await post(bytes, type)
      expect(res.status).toBe(400)
      expect((await res.json()).error).toBe('InvalidRequest')
    }
  })
})
