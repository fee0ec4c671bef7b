// Every case of the interop crypto fixtures, through the verification the product uses today
// (src/plc/keys.ts: compact low-S signatures over sha-256, did:key and multikey parsing).
import { readFileSync } from 'node:fs'
import { p256 } from '@noble/curves/nist.js'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { base58btc } from 'multiformats/bases/base58'
import { describe, expect, it } from 'vitest'
import { formatMultikey, parseDidKey, parseMultikey, verifySignature } from '../../src/plc/keys.js'

const load = (name: string) =>
  JSON.parse(readFileSync(new URL(`../interop/crypto/${name}`, import.meta.url), 'utf8')) as Array<
    Record<string, any>
  >
const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'))

describe('interop crypto fixtures', () => {
  it.each(load('signature-fixtures.json').map((f) => [f.comment, f]))('%s', async (_c, f) => {
    const msg = b64(f.messageBase64)
    const sig = b64(f.signatureBase64)
    const key = parseDidKey(f.publicKeyDid)
    expect(key.jwtAlg).toBe(f.algorithm)
    // `publicKeyMultibase` is the legacy DID-document form: the bare compressed key, base58btc.
    expect(base58btc.decode(f.publicKeyMultibase)).toEqual(key.keyBytes)
    // The multikey form round-trips.
    expect(parseMultikey(formatMultikey(key.jwtAlg, key.keyBytes)).keyBytes).toEqual(key.keyBytes)
    expect(await verifySignature(f.publicKeyDid, msg, sig)).toBe(f.validSignature)
  })

  it.each(load('w3c_didkey_K256.json').map((f) => [f.publicDidKey, f]))('K-256 did:key %s', (_d, f) => {
    const pub = secp256k1.getPublicKey(Buffer.from(f.privateKeyBytesHex, 'hex'), true)
    expect(`did:key:${formatMultikey('ES256K', pub)}`).toBe(f.publicDidKey)
    expect(parseDidKey(f.publicDidKey).keyBytes).toEqual(pub)
  })

  it.each(load('w3c_didkey_P256.json').map((f) => [f.publicDidKey, f]))('P-256 did:key %s', (_d, f) => {
    const pub = p256.getPublicKey(base58btc.baseDecode(f.privateKeyBytesBase58), true)
    expect(`did:key:${formatMultikey('ES256', pub)}`).toBe(f.publicDidKey)
    expect(parseDidKey(f.publicDidKey).keyBytes).toEqual(pub)
  })
})
