// Differential tests against @atproto/crypto (the reference): signatures cross-verify both ways, and
// did:key formatting and parsing agree, for many random keys and messages on both curves.
import * as ref from '@atproto/crypto'
import { describe, expect, it } from 'vitest'
import { curveOf, type KeyAlg } from './curves.js'
import { formatDidKey, parseDidKey } from './did-key.js'
import { Keypair } from './keys.js'
import { nobleBackend, nodeBackend, verifySignature } from './verify.js'

const curves: Array<[KeyAlg, typeof ref.P256Keypair | typeof ref.Secp256k1Keypair]> = [
  ['ES256', ref.P256Keypair],
  ['ES256K', ref.Secp256k1Keypair],
]

let seed = 20261201
const rand = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
  return seed / 2 ** 32
}
const message = () => Uint8Array.from({ length: 1 + ((rand() * 500) | 0) }, () => (rand() * 256) | 0)

describe.each(curves)('%s against @atproto/crypto', (alg, RefKeypair) => {
  it('the same private key gives the same did:key, and both parse it to the same point', async () => {
    for (let i = 0; i < 40; i++) {
      const theirs = await RefKeypair.create({ exportable: true })
      const ours = Keypair.fromPrivateBytes(alg, await theirs.export())
      expect(ours.did()).toBe(theirs.did())
      const parsedRef = ref.parseDidKey(ours.did())
      const parsed = parseDidKey(theirs.did())
      expect(parsed.jwtAlg).toBe(parsedRef.jwtAlg)
      // The reference returns the uncompressed point; compress it to compare.
      expect(curveOf(alg).noble.Point.fromBytes(parsedRef.keyBytes).toBytes(true)).toEqual(parsed.keyBytes)
      expect(formatDidKey(alg, parsedRef.keyBytes)).toBe(ref.formatDidKey(alg, parsed.keyBytes))
      const mine = Keypair.generate(alg)
      const reimported = await RefKeypair.import(mine.exportPrivateBytes())
      expect(reimported.did()).toBe(mine.did())
    }
  })

  it('our signatures verify with theirs and theirs with ours (both backends)', async () => {
    const ours = Keypair.generate(alg)
    const theirs = await RefKeypair.create()
    for (let i = 0; i < 150; i++) {
      const msg = message()
      const sigOurs = await ours.sign(msg)
      expect(await ref.verifySignature(ours.did(), msg, sigOurs)).toBe(true)
      const sigTheirs = await theirs.sign(msg)
      const { keyBytes } = parseDidKey(theirs.did())
      expect(nodeBackend.verify(alg, keyBytes, msg, sigTheirs)).toBe(true)
      expect(nobleBackend.verify(alg, keyBytes, msg, sigTheirs)).toBe(true)
      expect(await verifySignature(theirs.did(), msg, sigTheirs)).toBe(true)
      // A wrong message fails on both sides.
      const other = Uint8Array.from([...msg, 1])
      expect(await ref.verifySignature(ours.did(), other, sigOurs)).toBe(false)
      expect(await verifySignature(theirs.did(), other, sigTheirs)).toBe(false)
    }
  })

  it('agrees with the reference verdict on corrupted signatures', async () => {
    const key = Keypair.generate(alg)
    for (let i = 0; i < 150; i++) {
      const msg = message()
      const sig = key.signSync(msg)
      const bad = sig.slice()
      if (i % 3 !== 0) bad[(rand() * 64) | 0]! ^= 1 << ((rand() * 8) | 0)
      const theirs = await ref.verifySignature(key.did(), msg, bad).catch(() => false)
      expect(await verifySignature(key.did(), msg, bad)).toBe(theirs)
    }
  })
})
