/**
 * The few key operations PLC and identity need: parse a did:key, verify a signature.
 * @TODO re-export these from `../crypto/index.js` once the crypto module lands (same signatures);
 * this bridge exists so PLC validation works and is tested meanwhile.
 */
import { p256 } from '@noble/curves/nist.js'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { base58btc } from 'multiformats/bases/base58'

/** Something that signs with a did:key (structurally the crypto module's `Signer`). */
export interface Signer {
  readonly jwtAlg: 'ES256' | 'ES256K'
  did(): string
  sign(msg: Uint8Array): Promise<Uint8Array>
}

/** A parsed did:key. */
export interface ParsedDidKey {
  jwtAlg: 'ES256' | 'ES256K'
  /** Compressed public key (33 bytes). */
  keyBytes: Uint8Array
}

const P256_PREFIX = [0x80, 0x24]
const K256_PREFIX = [0xe7, 0x01]

const keyCache = new Map<string, ParsedDidKey>()

/** Parse a multibase multikey (`z…`) into its curve and compressed key bytes (memoized: point checks are costly). */
export function parseMultikey(multikey: string): ParsedDidKey {
  let parsed = keyCache.get(multikey)
  if (!parsed) {
    parsed = parseMultikeyUncached(multikey)
    if (keyCache.size > 10_000) keyCache.clear()
    keyCache.set(multikey, parsed)
  }
  return parsed
}

function parseMultikeyUncached(multikey: string): ParsedDidKey {
  if (!multikey.startsWith('z')) throw new Error('Multikey must be base58btc (z…)')
  const bytes = base58btc.decode(multikey)
  const has = (p: number[]) => bytes[0] === p[0] && bytes[1] === p[1]
  const jwtAlg = has(P256_PREFIX) ? 'ES256' : has(K256_PREFIX) ? 'ES256K' : null
  if (!jwtAlg) throw new Error('Unsupported key type')
  const keyBytes = bytes.subarray(2)
  const curve = jwtAlg === 'ES256' ? p256 : secp256k1
  if (keyBytes.length !== 33) throw new Error('Expected a compressed public key')
  curve.Point.fromBytes(keyBytes) // throws when not on the curve
  return { jwtAlg, keyBytes }
}

/** Parse `did:key:z…` (P-256 or secp256k1). @throws Error when malformed or unsupported. */
export function parseDidKey(didKey: string): ParsedDidKey {
  if (!didKey.startsWith('did:key:')) throw new Error('Not a did:key')
  return parseMultikey(didKey.slice('did:key:'.length))
}

/** Format a compressed public key as a multikey (`z…`). */
export function formatMultikey(jwtAlg: 'ES256' | 'ES256K', keyBytes: Uint8Array): string {
  const prefix = jwtAlg === 'ES256' ? P256_PREFIX : K256_PREFIX
  const out = new Uint8Array(prefix.length + keyBytes.length)
  out.set(prefix)
  out.set(keyBytes, prefix.length)
  return base58btc.encode(out)
}

/** Verify a 64-byte compact low-S ECDSA signature over sha-256(msg) by a did:key. */
export async function verifySignature(didKey: string, msg: Uint8Array, sig: Uint8Array): Promise<boolean> {
  const parsed = parseDidKey(didKey)
  if (sig.length !== 64) return false
  const curve = parsed.jwtAlg === 'ES256' ? p256 : secp256k1
  try {
    return curve.verify(sig, msg, parsed.keyBytes, { prehash: true, lowS: true, format: 'compact' })
  } catch {
    return false
  }
}

/**
 * did:key for a legacy `EcdsaSecp256r1VerificationKey2019` / `EcdsaSecp256k1VerificationKey2019`
 * key: raw (usually uncompressed) point bytes, no multicodec.
 */
export function didKeyFromRawPublicKey(jwtAlg: 'ES256' | 'ES256K', bytes: Uint8Array): string {
  const curve = jwtAlg === 'ES256' ? p256 : secp256k1
  const compressed = curve.Point.fromBytes(bytes).toBytes(true)
  return `did:key:${formatMultikey(jwtAlg, compressed)}`
}
