// Fuzzing every decoder of bytes and strings from outside: 10,000+ seeded random mutations (bit flips,
// truncations, insertions, splices, interesting bytes) of valid inputs each. No crash, no hang, and the
// only errors are the decoders' typed ones. Set FUZZ_SEED to replay another run.
import * as dagCbor from '@ipld/dag-cbor'
import { describe, expect, it } from 'vitest'
import { InvalidDidKeyError } from '../crypto/errors.js'
import { parseDidKey, verifySignature } from '../crypto/index.js'
import { Keypair } from '../crypto/keys.js'
import { MemoryBlockStore } from '../repo/block-store.js'
import { readCarBytes, readCarStream } from '../repo/car.js'
import { CarError, RepoError } from '../repo/errors.js'
import { exportRepoCar } from '../repo/export.js'
import { type RecordWrite, Repo } from '../repo/repo.js'
import { verifyRepo, verifyRepoCar } from '../repo/verify.js'
import { InvalidSyntaxError } from '../syntax/errors.js'
import { parseAtUri, parseDatetime } from '../syntax/formats.js'
import {
  ensureValidDid,
  ensureValidHandle,
  ensureValidNsid,
  ensureValidRecordKey,
} from '../syntax/identifiers.js'
import { parseTid } from '../syntax/tid.js'
import { decodeFrame, encodeErrorFrame, encodeMessageFrame, InvalidFrameError } from '../xrpc/frames.js'
import { InvalidRequestError } from '../xrpc/xrpc-error.js'
import { decodeCbor, encodeCbor } from './cbor.js'
import { cidForBytes, cidForRaw, decodeCidBytes, parseCid } from './cid.js'
import { DataError, InvalidCborError, InvalidCidError, InvalidJsonDataError } from './errors.js'
import { ipldToJson, jsonDocumentToIpld } from './json.js'

const N = 10_000
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed)

function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// Bytes that flip CBOR major types and lengths into edge cases: floats, undefined, breaks, long heads.
const INTERESTING = [0x00, 0x17, 0x18, 0x1b, 0x1f, 0x20, 0x40, 0x5f, 0x60, 0x7f, 0x80, 0x9f, 0xa0, 0xbf, 0xc1]
INTERESTING.push(0xd8, 0x2a, 0xf4, 0xf5, 0xf6, 0xf7, 0xf9, 0xfa, 0xfb, 0xff, 0x71, 0x55, 0x12)

type Rand = () => number

function join(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let pos = 0
  for (const p of parts) {
    out.set(p, pos)
    pos += p.length
  }
  return out
}
const int = (rand: Rand, n: number) => Math.floor(rand() * n)

/** One to three random mutations of `input`, sometimes splicing in a piece of `other`. */
function mutate(rand: Rand, input: Uint8Array, other: Uint8Array): Uint8Array {
  let b = Uint8Array.from(input)
  const rounds = 1 + int(rand, 3)
  for (let r = 0; r < rounds; r++) {
    const at = int(rand, b.length + 1)
    switch (int(rand, 7)) {
      case 0: // bit flip
        if (b.length) b[int(rand, b.length)]! ^= 1 << int(rand, 8)
        break
      case 1: // truncation
        b = b.slice(0, at)
        break
      case 2: {
        // insertion of random bytes
        const ins = Uint8Array.from({ length: 1 + int(rand, 8) }, () => int(rand, 256))
        b = join(b.subarray(0, at), ins, b.subarray(at))
        break
      }
      case 3: {
        // splice: a piece of another valid input replaces a piece of this one
        const from = int(rand, other.length)
        const piece = other.subarray(from, from + 1 + int(rand, 40))
        b = join(b.subarray(0, at), piece, b.subarray(at + int(rand, 40)))
        break
      }
      case 4: // interesting byte
        if (b.length) b[int(rand, b.length)] = INTERESTING[int(rand, INTERESTING.length)]!
        break
      case 5: {
        // deletion of a range
        b = join(b.subarray(0, at), b.subarray(at + 1 + int(rand, 16)))
        break
      }
      default: {
        // duplication of a range
        const seg = b.subarray(at, at + 1 + int(rand, 16))
        b = join(b.subarray(0, at), seg, b.subarray(at))
      }
    }
  }
  return b
}

function mutateString(rand: Rand, s: string, other: string): string {
  const enc = new TextEncoder()
  const bytes = mutate(rand, enc.encode(s), enc.encode(other))
  return new TextDecoder().decode(bytes) // invalid UTF-8 becomes U+FFFD: a string either way
}

/** Run `n` mutations through `fn`, tallying outcomes; any error outside `allowed` fails the test. */
async function fuzz<T extends Uint8Array | string>(
  seed: number,
  corpus: T[],
  mut: (rand: Rand, input: T, other: T) => T,
  fn: (input: T) => unknown,
  allowed: Array<new (...args: any[]) => Error>,
  n = N,
): Promise<{ accepted: number; rejected: Record<string, number> }> {
  const rand = prng(seed)
  let accepted = 0
  const rejected: Record<string, number> = {}
  for (let i = 0; i < n; i++) {
    const input = mut(rand, corpus[int(rand, corpus.length)]!, corpus[int(rand, corpus.length)]!)
    try {
      await fn(input)
      accepted++
    } catch (err) {
      if (!allowed.some((E) => err instanceof E)) {
        const shown = typeof input === 'string' ? JSON.stringify(input) : Buffer.from(input).toString('hex')
        throw new Error(`seed ${seed} case ${i}: untyped ${String(err)} for input ${shown.slice(0, 400)}`, {
          cause: err,
        })
      }
      const name = (err as Error).name
      rejected[name] = (rejected[name] ?? 0) + 1
    }
  }
  if (process.env.FUZZ_STATS) console.log(seed, { accepted, rejected })
  return { accepted, rejected }
}

// --- corpus

const key = Keypair.generate('ES256K')
const DID = 'did:plc:fuzzfuzzfuzzfuzzfuzzfuzz'
const records = [
  {
    $type: 'app.bsky.feed.post',
    text: 'hello 🙂 world',
    createdAt: '2024-01-01T00:00:00.000Z',
    langs: ['en'],
  },
  {
    $type: 'app.bsky.feed.like',
    subject: {
      uri: `at://${DID}/app.bsky.feed.post/3k2a`,
      cid: 'bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a',
    },
    createdAt: '2024-01-01T00:00:00Z',
  },
  {
    $type: 'app.bsky.actor.profile',
    avatar: { $type: 'blob', ref: cidForRaw(new Uint8Array([1, 2, 3])), mimeType: 'image/png', size: 3 },
    nested: { list: [1, -2, 300, 70_000, 2 ** 40, null, true, false], bytes: new Uint8Array([0, 1, 255]) },
  },
]
const writes: RecordWrite[] = Array.from({ length: 24 }, (_, i) => ({
  action: 'create' as const,
  collection: i % 2 ? 'app.bsky.feed.post' : 'app.bsky.feed.like',
  rkey: `3k${(1e9 + i * 7919).toString(36)}`,
  record: records[i % 3]!,
}))

async function concatAll(it: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const c of it) parts.push(c.slice())
  return new Uint8Array(Buffer.concat(parts))
}

const store = new MemoryBlockStore()
const repo = await Repo.create(store, DID, key, writes)
const car = await concatAll(exportRepoCar(store, repo.cid))
const cborCorpus = [...records.map((r) => encodeCbor(r)), encodeCbor({ e: [], l: null }), car.subarray(1, 60)]
const frames = [
  encodeMessageFrame('#commit', {
    seq: 12,
    repo: DID,
    rev: repo.commit.rev,
    blocks: car.subarray(0, 400),
    ops: [],
  }),
  encodeMessageFrame('#identity', { seq: 13, did: DID, time: '2024-01-01T00:00:00Z' }),
  encodeErrorFrame(new InvalidRequestError('nope', 'FutureCursor')),
]

const verify = (k: string, m: Uint8Array, s: Uint8Array) => verifySignature(k, m, s)

// Every fuzz test decodes for real; the only slack is for a loaded machine.
const T = { timeout: 120_000 }

describe('decoder fuzzing', () => {
  it(
    'strict CBOR decode: only InvalidCborError; whatever it accepts re-encodes to the same bytes',
    T,
    async () => {
      const out = await fuzz(
        SEED,
        cborCorpus,
        mutate,
        (bytes) => {
          const value = decodeCbor(bytes)
          expect(Buffer.from(encodeCbor(value)).equals(Buffer.from(bytes))).toBe(true)
          // The reference decoder, laxer, must read the same value.
          expect(dagCbor.decode(bytes)).toEqual(value)
        },
        [InvalidCborError],
      )
      expect(out.accepted).toBeGreaterThan(0)
      expect(out.rejected.InvalidCborError).toBeGreaterThan(N / 2)
    },
  )

  it('CAR reader with CID verification (whole and in chunks): only CarError', T, async () => {
    const out = await fuzz(SEED + 1, [car], mutate, (bytes) => readCarBytes(bytes), [CarError])
    expect(out.rejected.CarError).toBeGreaterThan(N / 2)
    const rand = prng(SEED + 2)
    const chunked = await fuzz(
      SEED + 3,
      [car],
      mutate,
      async (bytes) => {
        const chunks: Uint8Array[] = []
        for (let i = 0; i < bytes.length; ) {
          const n = 1 + int(rand, 700)
          chunks.push(bytes.subarray(i, i + n))
          i += n
        }
        const { blocks } = await readCarStream(chunks)
        for await (const _ of blocks);
      },
      [CarError],
      N / 2,
    )
    expect(chunked.rejected.CarError).toBeGreaterThan(N / 4)
  })

  it(
    'full repo verification from a CAR (signature, MST, records): only repo and data errors',
    T,
    async () => {
      const didKey = key.did()
      expect((await verifyRepoCar(car, { did: DID, didKey, verify })).records).toHaveLength(writes.length)
      const out = await fuzz(
        SEED + 4,
        [car],
        mutate,
        (bytes) => verifyRepoCar(bytes, { did: DID, didKey, verify }),
        [RepoError, DataError],
      )
      expect(out.accepted + Object.values(out.rejected).reduce((a, b) => a + b, 0)).toBe(N)
      expect(out.rejected.CarError).toBeGreaterThan(N / 2)
    },
  )

  it(
    'repo verification of MST nodes and commits with mutated bytes under their CIDs: only typed errors',
    T,
    async () => {
      // Past the CID check, the commit and MST node decoders see arbitrary bytes. A full verify walks the
      // tree each time (~1 ms), so a quarter of N here, on top of the N whole-CAR cases above.
      const { roots, blocks } = readCarBytes(car)
      const structural = blocks.cids().filter((c) => {
        const v = decodeCbor(blocks.get(c)!) as Record<string, unknown>
        return 'e' in v || 'sig' in v
      })
      expect(structural.length).toBeGreaterThan(1)
      const rand = prng(SEED + 20)
      const out = await fuzz(
        SEED + 21,
        structural.map((c) => c.bytes),
        (r, cidBytes, other) => {
          const target = structural.find((c) => Buffer.from(c.bytes).equals(Buffer.from(cidBytes)))!
          const donor = blocks.get(structural[int(rand, structural.length)]!)!
          return join(target.bytes, mutate(r, blocks.get(target)!, donor.length ? donor : other))
        },
        async (input) => {
          const target = structural.find((c) =>
            Buffer.from(input.subarray(0, c.bytes.length)).equals(Buffer.from(c.bytes)),
          )!
          const original = blocks.get(target)!
          blocks.set(target, input.subarray(target.bytes.length))
          try {
            await verifyRepo(blocks, roots[0]!, { did: DID, didKey: key.did(), verify })
          } finally {
            blocks.set(target, original)
          }
        },
        [RepoError, DataError],
        N / 4,
      )
      expect(out.rejected.InvalidMstNodeError).toBeGreaterThan(N / 8)
      expect(out.rejected.InvalidCommitError).toBeGreaterThan(0)
    },
  )

  it('event-stream frame decode: only InvalidCborError and InvalidFrameError', T, async () => {
    const out = await fuzz(SEED + 5, frames, mutate, (bytes) => decodeFrame(bytes), [
      InvalidCborError,
      InvalidFrameError,
    ])
    expect(out.accepted).toBeGreaterThan(0)
    expect(out.rejected.InvalidCborError).toBeGreaterThan(0)
  })

  it('CID parsing from strings and bytes: only InvalidCidError', T, async () => {
    const cids = [cidForBytes(encodeCbor(records[0])), cidForRaw(new Uint8Array(9))]
    const strings = await fuzz(SEED + 6, cids.map(String), mutateString, (s) => parseCid(s), [
      InvalidCidError,
    ])
    expect(strings.rejected.InvalidCidError).toBeGreaterThan(N / 2)
    const bytes = await fuzz(
      SEED + 7,
      cids.map((c) => c.bytes),
      mutate,
      (b) => decodeCidBytes(b, { blessed: true }),
      [InvalidCidError],
    )
    expect(bytes.rejected.InvalidCidError).toBeGreaterThan(N / 2)
  })

  it('atproto JSON parse: only InvalidJsonDataError once the text is JSON', T, async () => {
    const texts = records.map((r) => JSON.stringify(ipldToJson(r)))
    let parsedJson = 0
    const out = await fuzz(
      SEED + 8,
      texts,
      mutateString,
      (text) => {
        let value: unknown
        try {
          value = JSON.parse(text)
        } catch {
          return // not JSON at all: JSON.parse's business, not the data model's
        }
        parsedJson++
        jsonDocumentToIpld(value)
      },
      [InvalidJsonDataError],
    )
    expect(parsedJson).toBeGreaterThan(N / 10)
    expect(out.rejected.InvalidJsonDataError).toBeGreaterThan(0)
  })

  it(
    'syntax parsers (TID, DID, handle, NSID, record key, AT URI, datetime, did:key): only typed errors',
    T,
    async () => {
      const cases: Array<[string, (s: string) => unknown]> = [
        [repo.commit.rev, parseTid],
        [DID, ensureValidDid],
        ['alice.bsky.social', ensureValidHandle],
        ['app.bsky.feed.post', ensureValidNsid],
        ['3k2abcdefgh2a', ensureValidRecordKey],
        [`at://${DID}/app.bsky.feed.post/3k2abcdefgh2a`, parseAtUri],
        ['2024-02-29T12:34:56.789+05:30', parseDatetime],
        [key.did(), parseDidKey],
      ]
      for (const [i, [valid, parse]] of cases.entries()) {
        const out = await fuzz(
          SEED + 9 + i,
          [valid],
          mutateString,
          parse,
          [InvalidSyntaxError, InvalidDidKeyError],
          N / 4,
        )
        expect(Object.values(out.rejected).reduce((a, b) => a + b, 0)).toBeGreaterThan(0)
      }
    },
  )
})
