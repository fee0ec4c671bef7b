import * as dagCbor from '@ipld/dag-cbor'
import { describe, expect, it } from 'vitest'
import { decodeCbor, decodeCborFirst, encodeCbor } from './cbor.js'
import { CID, cidForBytes, cidForRaw, decodeCidBytes, isBlessedCid, parseCid } from './cid.js'
import { type CborErrorCode, InvalidCborError, InvalidCidError } from './errors.js'

const sha = `1220${'ab'.repeat(32)}`
const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'))

// [case, bytes (hex), the rule our decoder names, whether @ipld/dag-cbor's strict decode refuses it too]
const malformed: Array<[string, string, CborErrorCode, boolean]> = [
  ['truncated map', 'a16161', 'truncated', true],
  ['truncated bytes', '450102', 'truncated', true],
  ['empty input', '', 'truncated', true],
  ['trailing bytes', '0102', 'trailing-bytes', true],
  ['map keys out of order', 'a2616201616102', 'map-key-order', false],
  ['map keys sorted bytewise, not length-first', 'a262616101616202', 'map-key-order', false],
  ['duplicate map key', 'a2616101616102', 'duplicate-key', true],
  ['float64', 'fb3ff8000000000000', 'float', false],
  ['float64 with an integral value', 'fb3ff0000000000000', 'float', false],
  ['float32', 'fa3fc00000', 'float', false],
  ['float16', 'f93c00', 'float', false],
  ['NaN', 'f97e00', 'float', true],
  ['non-minimal integer', '1801', 'non-minimal', true],
  ['non-minimal 8-byte integer', '1b0000000000000001', 'non-minimal', true],
  ['non-minimal string length', '780161', 'non-minimal', true],
  ['non-minimal negative integer', '3900ff', 'non-minimal', true],
  ['indefinite-length array', '9f01ff', 'indefinite-length', true],
  ['indefinite-length string', '7f6161ff', 'indefinite-length', true],
  ['indefinite-length map', 'bf616101ff', 'indefinite-length', true],
  ['stray break', 'ff', 'indefinite-length', true],
  ['undefined', 'f7', 'undefined', false],
  ['simple value', 'f0', 'simple-value', true],
  ['reserved additional info', '1c', 'reserved', true],
  ['tag other than 42', 'c11a5f5e1000', 'tag', true],
  ['tag 42 non-minimally encoded', `d9002a58250001711220${'ab'.repeat(32)}`, 'non-minimal', true],
  ['CID bytes too short', 'd82a4100', 'cid', true],
  ['CID without the 0x00 prefix', `d82a58240171${sha}`, 'cid', true],
  ['tag 42 over a string', 'd82a6161', 'cid', true],
  ['CIDv0 link', `d82a582300${sha}`, 'cid', false],
  ['CID with the dag-pb codec', `d82a5825000170${sha}`, 'cid-codec', false],
  ['CID with a two-byte codec', `d82a582600018104${sha}`, 'cid-codec', false],
  ['CID with a sha2-512 hash', `d82a58450001711340${'cd'.repeat(64)}`, 'cid', false],
  ['CID with trailing bytes inside the tag', `d82a5826000171${sha}00`, 'cid', true],
  ['integer above 2^53 - 1', '1b0020000000000000', 'integer-range', false],
  ['integer below -(2^53 - 1)', '3b001fffffffffffff', 'integer-range', false],
  ['invalid UTF-8 string', '62c328', 'invalid-utf8', false],
  ['non-string map key', 'a10101', 'map-key-type', true],
  ['array claiming 2^32 items', '9b0000000100000000', 'truncated', true],
]

function codeOf(fn: () => unknown): CborErrorCode | 'accepted' {
  try {
    fn()
    return 'accepted'
  } catch (err) {
    if (!(err instanceof InvalidCborError)) throw err
    return err.code
  }
}

describe('strict DAG-CBOR decode', () => {
  it.each(malformed)('%s: refused as %s (dag-cbor refuses too: %s)', (_name, h, code, refRejects) => {
    const bytes = hex(h)
    expect(codeOf(() => decodeCbor(bytes))).toBe(code)
    let refRejected = false
    try {
      dagCbor.decode(bytes)
    } catch {
      refRejected = true
    }
    expect(refRejected).toBe(refRejects)
  })

  it('bounds input size and nesting depth', () => {
    const big = encodeCbor({ text: 'x'.repeat(1000) })
    expect(codeOf(() => decodeCbor(big, { maxSize: 999 }))).toBe('too-large')
    expect(codeOf(() => decodeCbor(big, { maxSize: big.length }))).toBe('accepted')
    let deep: unknown = 1
    for (let i = 0; i < 200; i++) deep = [deep]
    expect(codeOf(() => decodeCbor(encodeCbor(deep)))).toBe('too-deep')
    expect(codeOf(() => decodeCbor(encodeCbor(deep), { maxDepth: 256 }))).toBe('accepted')
    expect(codeOf(() => decodeCbor('a1' as unknown as Uint8Array))).toBe('not-bytes')
  })

  it('accepts what the encoder writes and re-encodes it byte for byte', () => {
    const rand = prng(7)
    for (let i = 0; i < 1000; i++) {
      const value = randomValue(rand, 0)
      const bytes = encodeCbor(value)
      const decoded = decodeCbor(bytes)
      expect(decoded).toEqual(dagCbor.decode(bytes))
      expect(encodeCbor(decoded)).toEqual(bytes)
    }
  })

  it('decodes integer and length boundaries', () => {
    for (const n of [0, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
      expect(decodeCbor(encodeCbor(n))).toBe(n)
      expect(decodeCbor(encodeCbor(-n - (n === Number.MAX_SAFE_INTEGER ? 0 : 1)))).toBe(
        -n - (n === Number.MAX_SAFE_INTEGER ? 0 : 1),
      )
      if (n < 70_000) expect(decodeCbor(encodeCbor('a'.repeat(n)))).toBe('a'.repeat(n))
    }
  })

  it('keeps __proto__ as an ordinary key', () => {
    const bytes = hex('a169__proto__01'.replace('__proto__', Buffer.from('__proto__').toString('hex')))
    const value = decodeCbor(bytes) as Record<string, unknown>
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
    expect(Object.keys(value)).toEqual(['__proto__'])
  })

  it('decodes the first item of a sequence and says where it ends', () => {
    const a = encodeCbor({ op: 1, t: '#commit' })
    const b = encodeCbor({ seq: 5 })
    const both = new Uint8Array([...a, ...b])
    const first = decodeCborFirst(both)
    expect(first).toEqual({ value: { op: 1, t: '#commit' }, end: a.length })
    expect(decodeCbor(both.subarray(first.end))).toEqual({ seq: 5 })
  })
})

describe('CID parsing', () => {
  const dag = cidForBytes(encodeCbor({ a: 1 }))
  const raw = cidForRaw(new Uint8Array([1, 2, 3]))
  const v0 = CID.parse('QmZtnFaddFtzGNT8BxdHVbQrhSFdq1pWxud5z4fA4kxfDt')
  it('parses strings and bytes with typed errors, blessed formats on request', () => {
    expect(parseCid(dag.toString()).equals(dag)).toBe(true)
    expect(decodeCidBytes(raw.bytes, { blessed: true }).equals(raw)).toBe(true)
    expect(isBlessedCid(dag) && isBlessedCid(raw)).toBe(true)
    expect(isBlessedCid(v0)).toBe(false)
    expect(parseCid(v0.toString()).equals(v0)).toBe(true)
    expect(() => parseCid(v0.toString(), { blessed: true })).toThrow(InvalidCidError)
    for (const bad of ['', 'b', 'bafyfoo', 'zzzz', `${dag.toString()}x`, 'x'.repeat(300)]) {
      expect(() => parseCid(bad), bad).toThrow(InvalidCidError)
    }
    expect(() => decodeCidBytes(new Uint8Array([...dag.bytes, 0]))).toThrow(InvalidCidError)
    expect(() => decodeCidBytes(new Uint8Array([1, 0x71]))).toThrow(InvalidCidError)
  })
})

function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const ALPHABET = ['a', 'b', 'z', '$type', 'é', '日本', '🙂', 'key', 'longer-key-name', '']
function randomString(rand: () => number): string {
  let s = ''
  const n = (rand() * (rand() < 0.1 ? 80 : 6)) | 0
  for (let i = 0; i < n; i++) s += ALPHABET[(rand() * ALPHABET.length) | 0]
  return s
}

function randomValue(rand: () => number, depth: number): unknown {
  const r = rand()
  if (depth > 3 || r < 0.35) {
    const k = (rand() * 9) | 0
    const ints = [0, 23, 24, 255, 256, 65535, 65536, 2 ** 32, Number.MAX_SAFE_INTEGER]
    switch (k) {
      case 0:
        return ints[(rand() * ints.length) | 0]! * (rand() < 0.5 ? -1 : 1)
      case 1:
        return Math.floor(rand() * 1e6) - 5e5
      case 2:
        return randomString(rand)
      case 3:
        return Uint8Array.from({ length: (rand() * 40) | 0 }, () => (rand() * 256) | 0)
      case 4:
        return cidForBytes(Uint8Array.of((rand() * 256) | 0), rand() < 0.5 ? 0x71 : 0x55)
      case 5:
        return rand() < 0.5
      case 6:
        return null
      default:
        return randomString(rand)
    }
  }
  if (r < 0.6) return Array.from({ length: (rand() * 5) | 0 }, () => randomValue(rand, depth + 1))
  const out: Record<string, unknown> = {}
  const n = (rand() * 6) | 0
  for (let i = 0; i < n; i++) out[randomString(rand)] = randomValue(rand, depth + 1)
  return out
}
