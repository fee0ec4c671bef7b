// Precomputed-nonce secp256k1 signing (nonces.ts): the signing equation against noble, and signatures
// from the worker's pool against @atproto/crypto and both of our verify backends.
import { createHash } from 'node:crypto'
import * as ref from '@atproto/crypto'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { describe, expect, it } from 'vitest'
import { bigIntTo32, bytesToBigInt, K256 } from './curves.js'
import { parseDidKey } from './did-key.js'
import { Keypair } from './keys.js'
import { precomputedNonces, signWithNonce } from './nonces.js'
import { nobleBackend, nodeBackend } from './verify.js'

const sha256 = (msg: Uint8Array) => new Uint8Array(createHash('sha256').update(msg).digest())
const { n } = K256

function invert(a: bigint): bigint {
  let [r0, r1, s0, s1] = [n, a, 0n, 1n]
  while (r1 !== 0n) {
    const q = r0 / r1
    ;[r0, r1] = [r1, r0 - q * r1]
    ;[s0, s1] = [s1, s0 - q * s1]
  }
  return ((s0 % n) + n) % n
}

async function waitForPool(min: number): Promise<void> {
  const deadline = Date.now() + 10_000
  while (precomputedNonces() < min) {
    if (Date.now() > deadline) throw new Error(`the nonce pool did not fill (has ${precomputedNonces()})`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('precomputed secp256k1 nonces', () => {
  it('the signing equation gives signatures noble verifies, low-S, for nonces computed here', () => {
    for (let i = 0; i < 50; i++) {
      const d = bytesToBigInt(secp256k1.utils.randomSecretKey())
      const k = bytesToBigInt(secp256k1.utils.randomSecretKey())
      const r = secp256k1.Point.BASE.multiply(k).toAffine().x % n
      const msg = Uint8Array.from({ length: 10 + i }, (_, j) => (j * 7 + i) & 0xff)
      const z = bytesToBigInt(sha256(msg))
      const sig = signWithNonce(d, z, invert(k), r)!
      expect(sig).toHaveLength(64)
      expect(bytesToBigInt(sig.subarray(0, 32))).toBe(r)
      const s = bytesToBigInt(sig.subarray(32))
      expect(s <= K256.halfN).toBe(true)
      // s·k ≡ ±(z + r·d) (mod n): the low-S fold negates s.
      const lhs = (s * k) % n
      const rhs = (z + r * d) % n
      expect(lhs === rhs || lhs === (n - rhs) % n).toBe(true)
      const pub = secp256k1.getPublicKey(bigIntTo32(d), true)
      expect(secp256k1.verify(sig, msg, pub, { prehash: true, lowS: true, format: 'compact' })).toBe(true)
    }
  })

  it('signs from the pool once it is filled: every signature verifies with the reference, nonces never repeat', async () => {
    const key = Keypair.generate('ES256K')
    key.signSync(new Uint8Array([0])) // starts the worker
    await waitForPool(100)
    const before = precomputedNonces()
    const { keyBytes } = parseDidKey(key.did())
    // Signed synchronously: the worker's refills arrive as messages, so none lands in between.
    const msgs = Array.from({ length: 100 }, (_, i) =>
      Uint8Array.from({ length: 1 + i * 3 }, (_, j) => (j ^ i) & 0xff),
    )
    const sigs = msgs.map((msg) => key.signSync(msg))
    expect(precomputedNonces()).toBe(before - 100) // every one of them took a precomputed nonce
    const rs = new Set<string>()
    for (const [i, msg] of msgs.entries()) {
      const sig = sigs[i]!
      rs.add(Buffer.from(sig.subarray(0, 32)).toString('hex'))
      expect(bytesToBigInt(sig.subarray(32)) <= K256.halfN).toBe(true)
      expect(await ref.verifySignature(key.did(), msg, sig)).toBe(true)
      expect(nodeBackend.verify('ES256K', keyBytes, msg, sig)).toBe(true)
      expect(nobleBackend.verify('ES256K', keyBytes, msg, sig)).toBe(true)
      expect(nodeBackend.verify('ES256K', keyBytes, Uint8Array.from([...msg, 0]), sig)).toBe(false)
    }
    // No two signatures share a nonce (r = x(k·G) would repeat).
    expect(rs.size).toBe(100)
  })

  it('falls back to a one-shot signature when the pool runs dry, still valid', async () => {
    const key = Keypair.generate('ES256K')
    const msg = new Uint8Array([1, 2, 3])
    // More signatures than the pool holds, without giving the worker a turn in between.
    const sigs = Array.from({ length: 400 }, () => key.signSync(msg))
    expect(precomputedNonces()).toBe(0)
    const { keyBytes } = parseDidKey(key.did())
    for (const sig of sigs.slice(-20)) expect(nodeBackend.verify('ES256K', keyBytes, msg, sig)).toBe(true)
    expect(new Set(sigs.map((s) => Buffer.from(s).toString('hex'))).size).toBe(400)
  })
})
