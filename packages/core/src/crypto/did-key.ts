/**
 * Public key encodings of cryptography.md: multikey (`z` + base58btc of the multicodec-prefixed
 * compressed point) and `did:key:` + multikey; plus the deprecated raw-point form of old DID documents.
 */
import { base58btc } from 'multiformats/bases/base58'
import { curveOf, K256, type KeyAlg, P256 } from './curves.js'
import { InvalidDidKeyError } from './errors.js'

/** A parsed did:key or multikey. */
export interface ParsedDidKey {
  jwtAlg: KeyAlg
  /** Compressed public key (33 bytes), a valid point on the curve. */
  keyBytes: Uint8Array
}

export const DID_KEY_PREFIX = 'did:key:'

// Parsing checks the point (a square root): memoized, since the same keys verify over and over.
const cache = new Map<string, ParsedDidKey>()
const CACHE_MAX = 10_000

/** Parse a multikey (`z…`) into its curve and compressed key bytes. @throws InvalidDidKeyError */
export function parseMultikey(multikey: string): ParsedDidKey {
  let parsed = cache.get(multikey)
  if (!parsed) {
    parsed = parseUncached(multikey)
    if (cache.size >= CACHE_MAX) cache.clear()
    cache.set(multikey, parsed)
  }
  return parsed
}

function parseUncached(multikey: string): ParsedDidKey {
  if (typeof multikey !== 'string' || !multikey.startsWith('z'))
    throw new InvalidDidKeyError('Multikey must be base58btc (z…)')
  let bytes: Uint8Array
  try {
    bytes = base58btc.decode(multikey)
  } catch {
    throw new InvalidDidKeyError('Multikey is not valid base58btc')
  }
  const curve = [P256, K256].find((c) => bytes[0] === c.multicodec[0] && bytes[1] === c.multicodec[1])
  if (!curve) throw new InvalidDidKeyError('Unsupported key type (only P-256 and secp256k1)')
  const keyBytes = bytes.slice(2)
  if (keyBytes.length !== 33 || (keyBytes[0] !== 2 && keyBytes[0] !== 3))
    throw new InvalidDidKeyError('Expected a compressed public key (33 bytes)')
  try {
    curve.noble.Point.fromBytes(keyBytes).assertValidity()
  } catch {
    throw new InvalidDidKeyError('Public key is not a point on its curve')
  }
  return { jwtAlg: curve.alg, keyBytes }
}

/** Parse `did:key:z…` (P-256 or secp256k1). @throws InvalidDidKeyError */
export function parseDidKey(didKey: string): ParsedDidKey {
  if (typeof didKey !== 'string' || !didKey.startsWith(DID_KEY_PREFIX))
    throw new InvalidDidKeyError('Not a did:key')
  return parseMultikey(didKey.slice(DID_KEY_PREFIX.length))
}

/** Format a compressed (33-byte) or uncompressed (65-byte) public key as a multikey (`z…`). */
export function formatMultikey(jwtAlg: KeyAlg, keyBytes: Uint8Array): string {
  const curve = curveOf(jwtAlg)
  const compressed = keyBytes.length === 33 ? keyBytes : compressPublicKey(jwtAlg, keyBytes)
  const out = new Uint8Array(2 + compressed.length)
  out.set(curve.multicodec)
  out.set(compressed, 2)
  return base58btc.encode(out)
}

/** Format a public key as `did:key:z…`. */
export function formatDidKey(jwtAlg: KeyAlg, keyBytes: Uint8Array): string {
  return DID_KEY_PREFIX + formatMultikey(jwtAlg, keyBytes)
}

/** Compressed form of any encoding of a point. @throws InvalidDidKeyError when not on the curve */
export function compressPublicKey(jwtAlg: KeyAlg, keyBytes: Uint8Array): Uint8Array {
  try {
    return curveOf(jwtAlg).noble.Point.fromBytes(keyBytes).toBytes(true)
  } catch {
    throw new InvalidDidKeyError('Public key is not a point on its curve')
  }
}

/**
 * did:key for a legacy `EcdsaSecp256r1VerificationKey2019` / `EcdsaSecp256k1VerificationKey2019`
 * key: raw (usually uncompressed) point bytes, no multicodec. @throws InvalidDidKeyError
 */
export function didKeyFromRawPublicKey(jwtAlg: KeyAlg, bytes: Uint8Array): string {
  return formatDidKey(jwtAlg, compressPublicKey(jwtAlg, bytes))
}
