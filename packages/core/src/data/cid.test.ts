import { randomBytes } from 'node:crypto'
import { CID as MfCid } from 'multiformats/cid'
import { create as createDigest } from 'multiformats/hashes/digest'
import { describe, expect, it } from 'vitest'
import { CID, cidForBytes, cidForRaw, cidString } from './cid.js'

describe('cidString', () => {
  it('is exactly toString() for CIDv1 of every codec and hash length, and for CIDv0', () => {
    for (let i = 0; i < 2000; i++) {
      const data = randomBytes(i % 50)
      for (const cid of [cidForBytes(data), cidForRaw(data)]) {
        // A fresh object each time, so the cached string of one never answers for another.
        const fresh = CID.decode(cid.bytes)
        expect(cidString(fresh)).toBe(cid.toString())
        expect(cidString(fresh)).toBe(fresh.toString())
      }
      // Odd digest lengths exercise every leftover-bit case of the encoder.
      const odd = MfCid.createV1(0x55, createDigest(0x12, randomBytes(1 + (i % 40))))
      expect(cidString(CID.decode(odd.bytes))).toBe(odd.toString())
    }
    const v0 = MfCid.createV0(createDigest(0x12, randomBytes(32)))
    expect(cidString(v0)).toBe(v0.toString())
    expect(cidString(v0).startsWith('Qm')).toBe(true)
  })
})
