import { describe, expect, it } from 'vitest'
import { encodeCbor } from '../data/cbor.js'
import { cidForBytes } from '../data/cid.js'
import { BlockMap } from './block-map.js'
import { blocksToCarFile, encodeCarHeader, readCar, readCarBytes, readCarStream } from './car.js'
import { CarError } from './errors.js'

async function sampleCar(n = 20): Promise<{ car: Uint8Array; blocks: BlockMap }> {
  const blocks = new BlockMap()
  for (let i = 0; i < n; i++) {
    const bytes = encodeCbor({ i, text: 'x'.repeat(i * 7) })
    blocks.set(cidForBytes(bytes), bytes)
  }
  return { car: await blocksToCarFile(blocks.cids()[0], blocks), blocks }
}

function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function chunked(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size))
  return out
}

describe('CAR reader', () => {
  it('round-trips, whatever the chunking of the stream', async () => {
    const { car, blocks } = await sampleCar()
    for (const size of [1, 3, 7, 64, 1 << 20]) {
      const { roots, blocks: got } = await readCar(chunked(car, size))
      expect(roots[0].toString()).toBe(blocks.cids()[0].toString())
      expect(got.cids().map(String)).toEqual(blocks.cids().map(String))
      for (const [cid, bytes] of blocks)
        expect(Buffer.from(got.get(cid)!).equals(Buffer.from(bytes))).toBe(true)
    }
  })

  it('truncation anywhere is a CarError', async () => {
    const { car } = await sampleCar(4)
    const header = encodeCarHeader([]).length
    for (let cut = 1; cut < car.length; cut++) {
      if (cut === header) continue
      const truncated = car.subarray(0, cut)
      let ok = false
      try {
        readCarBytes(truncated)
        ok = true
      } catch (err) {
        expect(err).toBeInstanceOf(CarError)
      }
      // A cut that lands exactly between blocks is a valid, shorter CAR.
      if (ok) expect(readCarBytes(truncated).blocks.size).toBeLessThan(4)
      // The streaming reader agrees with the in-memory one.
      const streamed = readCar(chunked(truncated.slice(), 3))
      if (ok) await expect(streamed).resolves.toBeDefined()
      else await expect(streamed).rejects.toBeInstanceOf(CarError)
    }
  })

  it('block bytes that do not hash to their CID are a CarError', async () => {
    const { car } = await sampleCar(3)
    const bad = car.slice()
    bad[bad.length - 1] ^= 0xff
    expect(() => readCarBytes(bad)).toThrow(CarError)
    expect(() => readCarBytes(bad, { verifyCids: false })).not.toThrow()
  })

  it('bad headers, varint overflow and oversize sections are CarErrors', async () => {
    const header = encodeCbor({ version: 2, roots: [] })
    expect(() => readCarBytes(Uint8Array.from([header.length, ...header]))).toThrow(/version: 1/)
    expect(() => readCarBytes(Uint8Array.from([3, 0xa1, 0x61, 0x61]))).toThrow(CarError)
    expect(() =>
      readCarBytes(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])),
    ).toThrow(/varint/)
    expect(() => readCarBytes(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x01]))).toThrow(/limit/)
    const { car } = await sampleCar(3)
    expect(() => readCarBytes(car, { maxBlockSize: 10 })).toThrow(/limit/)
    expect(() => readCarBytes(new Uint8Array(0))).toThrow(CarError)
  })

  it('accepts only the CIDs atproto allows, a strict DAG-CBOR header, and a bounded total size', async () => {
    const { car } = await sampleCar(3)
    const header = encodeCarHeader([])
    const withBlock = (cidBytes: Uint8Array, data: Uint8Array) =>
      Uint8Array.from([...header, cidBytes.length + data.length, ...cidBytes, ...data])
    const data = encodeCbor({ a: 1 })
    const digest = cidForBytes(data).multihash.bytes
    expect(readCarBytes(withBlock(Uint8Array.from([1, 0x71, ...digest]), data)).blocks.size).toBe(1)
    expect(readCarBytes(withBlock(Uint8Array.from([1, 0x55, ...digest]), data)).blocks.size).toBe(1)
    // CIDv0 (a bare sha-256 multihash), dag-pb and sha-512 blocks are not atproto's.
    expect(() => readCarBytes(withBlock(digest, data))).toThrow(/version/)
    expect(() => readCarBytes(withBlock(Uint8Array.from([1, 0x70, ...digest]), data))).toThrow(/codec/)
    const sha512 = Uint8Array.from([1, 0x71, 0x13, 0x40, ...new Uint8Array(64)])
    expect(() => readCarBytes(withBlock(sha512, data))).toThrow(/sha-256/)
    // Header: floats and out-of-order keys are not DAG-CBOR as atproto reads it.
    const badHeaders = [
      [
        0xa2,
        0x67,
        ...new TextEncoder().encode('version'),
        0x01,
        0x65,
        ...new TextEncoder().encode('roots'),
        0x80,
      ],
      [
        0xa2,
        0x65,
        ...new TextEncoder().encode('roots'),
        0x80,
        0x67,
        ...new TextEncoder().encode('version'),
        0xf9,
        0x3c,
        0x00,
      ],
    ]
    for (const h of badHeaders) {
      expect(() => readCarBytes(Uint8Array.from([h.length, ...h]))).toThrow(/not valid DAG-CBOR/)
    }
    expect(() => readCarBytes(car, { maxSize: car.length - 1 })).toThrow(/limit/)
    expect(readCarBytes(car, { maxSize: car.length }).blocks.size).toBe(3)
    await expect(readCar(chunked(car, 7), { maxSize: 40 })).rejects.toThrow(CarError)
  })

  it('streams blocks lazily from a ReadableStream', async () => {
    const { car, blocks } = await sampleCar(10)
    const parts = chunked(car, 5)
    const stream = new ReadableStream<Uint8Array>({
      pull(c) {
        const p = parts.shift()
        if (p) c.enqueue(p)
        else c.close()
      },
    })
    const { blocks: it } = await readCarStream(stream)
    let n = 0
    for await (const b of it) {
      expect(b.cid.toString()).toBe(blocks.cids()[n++].toString())
    }
    expect(n).toBe(10)
  })

  it('fuzz: 10,000 random mutations of a valid CAR never crash or hang', async () => {
    const { car } = await sampleCar(12)
    const r = rng(424242)
    let errors = 0
    for (let i = 0; i < 10_000; i++) {
      const m = car.slice()
      const kind = r()
      if (kind < 0.5) {
        for (let k = 1 + Math.floor(r() * 4); k > 0; k--)
          m[Math.floor(r() * m.length)] = Math.floor(r() * 256)
      } else if (kind < 0.75) {
        m[Math.floor(r() * m.length)] ^= 1 << Math.floor(r() * 8)
      }
      const input = kind >= 0.75 ? m.subarray(0, Math.floor(r() * m.length)) : m
      try {
        readCarBytes(input)
      } catch (err) {
        if (!(err instanceof CarError)) throw err
        errors++
      }
    }
    expect(errors).toBeGreaterThan(5_000)
  })
})
