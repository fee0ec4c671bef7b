import { describe, expect, it } from 'vitest'
import { bigIntTo32, bytesToBigInt, curveOf, type KeyAlg } from './curves.js'
import { formatDidKey, formatMultikey, parseDidKey, parseMultikey } from './did-key.js'
import { InvalidDidKeyError, InvalidPrivateKeyError } from './errors.js'
import { Keypair } from './keys.js'
import { signCompact } from './sign.js'
import {
  isStrictCompactSignature,
  nobleBackend,
  nodeBackend,
  verifySignature,
  verifySignatureSync,
} from './verify.js'

const algs: KeyAlg[] = ['ES256', 'ES256K']
const backends = [nodeBackend, nobleBackend]

/** Seeded PRNG (mulberry32) so failures reproduce. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const randBytes = (rand: () => number, n: number) => Uint8Array.from({ length: n }, () => (rand() * 256) | 0)

/** DER form of a compact signature (what atproto refuses). */
function toDer(sig: Uint8Array): Uint8Array {
  const int = (b: Uint8Array) => {
    let i = 0
    while (i < b.length - 1 && b[i] === 0) i++
    const v = b.subarray(i)
    return v[0]! & 0x80 ? [0x02, v.length + 1, 0, ...v] : [0x02, v.length, ...v]
  }
  const body = [...int(sig.subarray(0, 32)), ...int(sig.subarray(32))]
  return Uint8Array.from([0x30, body.length, ...body])
}

describe.each(algs)('%s key pairs', (alg) => {
  const curve = curveOf(alg)

  it('export and import round-trip to the same key and did:key', () => {
    const a = Keypair.generate(alg)
    const b = Keypair.fromPrivateBytes(alg, a.exportPrivateBytes())
    expect(b.did()).toBe(a.did())
    expect(b.publicKeyBytes()).toEqual(a.publicKeyBytes())
    expect(parseDidKey(a.did())).toEqual({ jwtAlg: alg, keyBytes: a.publicKeyBytes() })
    expect(a.did()).not.toBe(Keypair.generate(alg).did())
  })

  it('signs through noble too (where OpenSSL lacks the curve): deterministic, low-S, verified by both', () => {
    const key = Keypair.generate(alg)
    const priv = key.exportPrivateBytes()
    const { keyBytes } = parseDidKey(key.did())
    const msg = new TextEncoder().encode('noble path')
    const sig = signCompact(curve, priv, null, msg)
    expect(signCompact(curve, priv, null, msg)).toEqual(sig)
    expect(bytesToBigInt(sig.subarray(32)) <= curve.halfN).toBe(true)
    for (const b of backends) expect(b.verify(alg, keyBytes, msg, sig)).toBe(true)
  })

  it('derives the public key noble derives (through OpenSSL when it has the curve)', () => {
    for (let i = 0; i < 50; i++) {
      const k = Keypair.generate(alg)
      expect(k.publicKeyBytes()).toEqual(curve.noble.getPublicKey(k.exportPrivateBytes(), true))
    }
  })

  it('refuses private keys that are not scalars of the curve', () => {
    for (const bad of [
      new Uint8Array(32),
      bigIntTo32(curve.n),
      bigIntTo32(curve.n + 1n),
      new Uint8Array(31),
    ]) {
      expect(() => Keypair.fromPrivateBytes(alg, bad)).toThrow(InvalidPrivateKeyError)
    }
    expect(Keypair.fromPrivateBytes(alg, bigIntTo32(curve.n - 1n)).did()).toMatch(/^did:key:z/)
  })

  it('signs 64-byte compact low-S signatures that both backends verify', async () => {
    const key = Keypair.generate(alg)
    const { keyBytes } = parseDidKey(key.did())
    const rand = prng(alg === 'ES256' ? 1 : 2)
    for (let i = 0; i < 200; i++) {
      const msg = randBytes(rand, (rand() * 300) | 0)
      const sig = await key.sign(msg)
      expect(sig.length).toBe(64)
      expect(bytesToBigInt(sig.subarray(32)) <= curve.halfN).toBe(true)
      for (const b of backends) expect(b.verify(alg, keyBytes, msg, sig)).toBe(true)
    }
  })

  it('both backends refuse high-S, DER, out-of-range, altered and foreign-key signatures alike', async () => {
    const key = Keypair.generate(alg)
    const other = Keypair.generate(alg)
    const msg = new TextEncoder().encode('hello atproto')
    const sig = key.signSync(msg)
    const s = bytesToBigInt(sig.subarray(32))
    const r = bytesToBigInt(sig.subarray(0, 32))
    const withRS = (rr: bigint, ss: bigint) => Uint8Array.from([...bigIntTo32(rr), ...bigIntTo32(ss)])
    const bad: Array<[string, string, Uint8Array, Uint8Array]> = [
      ['high-S twin', key.did(), msg, withRS(r, curve.n - s)],
      ['DER', key.did(), msg, toDer(sig)],
      ['r = 0', key.did(), msg, withRS(0n, s)],
      ['s = 0', key.did(), msg, withRS(r, 0n)],
      ['r + n', key.did(), msg, withRS(r + curve.n < 2n ** 256n ? r + curve.n : curve.n, s)],
      ['65 bytes', key.did(), msg, Uint8Array.from([...sig, 0])],
      ['other message', key.did(), new TextEncoder().encode('hello atproto!'), sig],
      ['other key', other.did(), msg, sig],
    ]
    for (const [what, did, m, sg] of bad) {
      for (const b of backends) {
        const { keyBytes } = parseDidKey(did)
        expect([what, b.name, b.verify(alg, keyBytes, m, sg)]).toEqual([what, b.name, false])
      }
      expect(await verifySignature(did, m, sg)).toBe(false)
    }
    expect(isStrictCompactSignature(alg, sig)).toBe(true)
    expect(verifySignatureSync(key.did(), msg, sig, { backend: nobleBackend })).toBe(true)
  })

  it('both backends agree on hundreds of mutated signatures', () => {
    const rand = prng(alg === 'ES256' ? 11 : 12)
    const key = Keypair.generate(alg)
    const { keyBytes } = parseDidKey(key.did())
    let valid = 0
    for (let i = 0; i < 300; i++) {
      const msg = randBytes(rand, 40)
      const sig = key.signSync(msg)
      // Flip one bit of the signature or of the message half the time; else leave it valid.
      const mode = (rand() * 3) | 0
      const s2 = sig.slice()
      const m2 = msg.slice()
      if (mode === 1) s2[(rand() * 64) | 0]! ^= 1 << ((rand() * 8) | 0)
      if (mode === 2) m2[(rand() * 40) | 0]! ^= 1 << ((rand() * 8) | 0)
      const results = backends.map((b) => b.verify(alg, keyBytes, m2, s2))
      expect(results[0]).toBe(results[1])
      if (results[0]) valid++
    }
    expect(valid).toBeGreaterThan(50)
    expect(valid).toBeLessThan(250)
  })
})

describe('did:key and multikey parsing', () => {
  const good = Keypair.generate('ES256K')
  it('refuses malformed keys with a typed error', () => {
    const pub = good.publicKeyBytes()
    const notOnCurve = pub.slice()
    // x = 5 has no secp256k1 point (5^3 + 7 = 132 is not a square mod p).
    notOnCurve.fill(0, 1)
    notOnCurve[32] = 5
    const cases = [
      'did:web:example.com',
      'did:key:Q3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme',
      'did:key:z0OIl',
      `did:key:${formatMultikey('ES256K', pub).slice(0, -2)}`,
      `did:key:z${'1'.repeat(40)}`,
    ]
    for (const c of cases) expect(() => parseDidKey(c), c).toThrow(InvalidDidKeyError)
    expect(() => parseMultikey(formatMultikey('ES256K', notOnCurve))).toThrow(InvalidDidKeyError)
    expect(() => formatMultikey('ES256K', new Uint8Array(20))).toThrow(InvalidDidKeyError)
  })

  it('formats uncompressed keys in their compressed form', () => {
    const uncompressed = curveOf('ES256K').noble.Point.fromBytes(good.publicKeyBytes()).toBytes(false)
    expect(formatDidKey('ES256K', uncompressed)).toBe(good.did())
  })
})
