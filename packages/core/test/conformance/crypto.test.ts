// Every case of the interop crypto fixtures, through both verification backends (node:crypto, the
// default, and @noble/curves) and the did:key / multikey codecs of src/crypto.
import { readFileSync } from 'node:fs'
import { base58btc } from 'multiformats/bases/base58'
import { describe, expect, it } from 'vitest'
import {
  curveOf,
  formatDidKey,
  formatMultikey,
  Keypair,
  nobleBackend,
  nodeBackend,
  normalizeLowS,
  parseDidKey,
  parseMultikey,
  verifySignature,
} from '../../src/crypto/index.js'

const load = (name: string) =>
  JSON.parse(readFileSync(new URL(`../interop/crypto/${name}`, import.meta.url), 'utf8')) as Array<
    Record<string, any>
  >
const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'))
const backends = [nodeBackend, nobleBackend]

describe('interop crypto fixtures', () => {
  const sigCases = load('signature-fixtures.json')
  it('has every kind of case', () => {
    expect(sigCases.length).toBeGreaterThanOrEqual(6)
    expect(sigCases.some((f) => f.tags?.includes('high-s'))).toBe(true)
    expect(sigCases.some((f) => f.tags?.includes('der-encoded'))).toBe(true)
  })

  it.each(sigCases.map((f) => [f.comment, f]))('%s', async (_c, f) => {
    const msg = b64(f.messageBase64)
    const sig = b64(f.signatureBase64)
    const key = parseDidKey(f.publicKeyDid)
    expect(key.jwtAlg).toBe(f.algorithm)
    // `publicKeyMultibase` is the legacy DID-document form: the bare compressed key, base58btc.
    expect(base58btc.decode(f.publicKeyMultibase)).toEqual(key.keyBytes)
    expect(parseMultikey(formatMultikey(key.jwtAlg, key.keyBytes)).keyBytes).toEqual(key.keyBytes)
    expect(formatDidKey(key.jwtAlg, key.keyBytes)).toBe(f.publicKeyDid)
    for (const backend of backends) {
      expect([backend.name, backend.verify(key.jwtAlg, key.keyBytes, msg, sig)]).toEqual([
        backend.name,
        f.validSignature,
      ])
    }
    expect(await verifySignature(f.publicKeyDid, msg, sig)).toBe(f.validSignature)
    // A high-S signature is the malleated twin of a valid one: folding it back makes it verify.
    if (f.tags?.includes('high-s')) {
      const low = normalizeLowS(curveOf(key.jwtAlg), sig)
      expect(low).not.toEqual(sig)
      for (const backend of backends) expect(backend.verify(key.jwtAlg, key.keyBytes, msg, low)).toBe(true)
    }
  })

  it.each(load('w3c_didkey_K256.json').map((f) => [f.publicDidKey, f]))('K-256 did:key %s', (_d, f) => {
    const key = Keypair.fromPrivateBytes('ES256K', Buffer.from(f.privateKeyBytesHex, 'hex'))
    expect(key.did()).toBe(f.publicDidKey)
    expect(parseDidKey(f.publicDidKey).keyBytes).toEqual(key.publicKeyBytes())
  })

  it.each(load('w3c_didkey_P256.json').map((f) => [f.publicDidKey, f]))('P-256 did:key %s', (_d, f) => {
    const key = Keypair.fromPrivateBytes('ES256', base58btc.baseDecode(f.privateKeyBytesBase58))
    expect(key.did()).toBe(f.publicDidKey)
    expect(parseDidKey(f.publicDidKey).keyBytes).toEqual(key.publicKeyBytes())
  })
})
