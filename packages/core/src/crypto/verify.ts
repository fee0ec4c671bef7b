/**
 * Signature verification with the strictness of cryptography.md: ECDSA over sha-256(msg), the 64-byte
 * compact (r || s) form only (DER refused), low-S only, 1 <= r, s < n.
 *
 * Two backends verify exactly the same set of signatures (the conformance and differential tests run
 * every fixture through both): node:crypto (OpenSSL; ~5x faster on secp256k1, ~30x on P-256 here,
 * see bench/crypto.mjs), the default, and @noble/curves, the fallback when OpenSSL lacks a curve.
 */
import { createPublicKey, type KeyObject, verify as nodeVerifyRaw } from 'node:crypto'
import { bytesToBigInt, type CurveInfo, curveOf, type KeyAlg, nodeHasCurve } from './curves.js'
import { parseDidKey } from './did-key.js'

/** A verification backend: `keyBytes` is a compressed public key already checked to be on the curve. */
export interface VerifyBackend {
  readonly name: 'node' | 'noble'
  verify(alg: KeyAlg, keyBytes: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean
}

/**
 * The checks neither backend is trusted with: compact length, 1 <= r < n, 1 <= s <= n/2 (low-S;
 * OpenSSL accepts high-S). Bounds are compared on the bytes: this runs before every verify.
 */
export function isStrictCompactSignature(alg: KeyAlg, sig: Uint8Array): boolean {
  if (!(sig instanceof Uint8Array) || sig.length !== 64) return false
  const c = curveOf(alg)
  const r = bytesToBigInt(sig.subarray(0, 32))
  const s = bytesToBigInt(sig.subarray(32))
  return r > 0n && r < c.n && s > 0n && s <= c.halfN
}

/** @noble/curves: pure JS, everywhere. */
export const nobleBackend: VerifyBackend = {
  name: 'noble',
  verify(alg, keyBytes, msg, sig) {
    if (!isStrictCompactSignature(alg, sig)) return false
    try {
      return curveOf(alg).noble.verify(sig, msg, keyBytes, { prehash: true, lowS: true, format: 'compact' })
    } catch {
      return false
    }
  },
}

// Importing a key costs more than a verify: one KeyObject per key, bounded.
const keyObjects = new Map<string, KeyObject>()
const KEY_CACHE_MAX = 20_000

/** The node:crypto public KeyObject of a compressed point (SPKI DER, memoized). */
export function nodePublicKey(curve: CurveInfo, keyBytes: Uint8Array): KeyObject {
  const id = curve.alg + Buffer.from(keyBytes).toString('latin1')
  let key = keyObjects.get(id)
  if (!key) {
    const der = new Uint8Array(curve.spkiPrefix.length + keyBytes.length)
    der.set(curve.spkiPrefix)
    der.set(keyBytes, curve.spkiPrefix.length)
    key = createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' })
    if (keyObjects.size >= KEY_CACHE_MAX) keyObjects.clear()
    keyObjects.set(id, key)
  }
  return key
}

/** node:crypto (OpenSSL) with the strict checks added; noble for a curve this OpenSSL lacks. */
export const nodeBackend: VerifyBackend = {
  name: 'node',
  verify(alg, keyBytes, msg, sig) {
    const curve = curveOf(alg)
    if (!nodeHasCurve(curve)) return nobleBackend.verify(alg, keyBytes, msg, sig)
    if (!isStrictCompactSignature(alg, sig)) return false
    try {
      return nodeVerifyRaw(
        'sha256',
        msg,
        { key: nodePublicKey(curve, keyBytes), dsaEncoding: 'ieee-p1363' },
        sig,
      )
    } catch {
      return false
    }
  },
}

/** The backend {@link verifySignature} uses. */
export const defaultVerifyBackend: VerifyBackend = nodeBackend

/** Options of {@link verifySignature}. */
export interface VerifyOptions {
  /** Verification backend (default node:crypto); both accept exactly the same signatures. */
  backend?: VerifyBackend
}

/**
 * Whether `sig` is a valid strict signature of `msg` by the key of `didKey`. A malformed signature is
 * `false`; a malformed did:key throws.
 * @throws InvalidDidKeyError
 */
export function verifySignatureSync(
  didKey: string,
  msg: Uint8Array,
  sig: Uint8Array,
  opts: VerifyOptions = {},
): boolean {
  const { jwtAlg, keyBytes } = parseDidKey(didKey)
  return (opts.backend ?? defaultVerifyBackend).verify(jwtAlg, keyBytes, msg, sig)
}

/** Async form of {@link verifySignatureSync} (the shape repo and PLC verification take). */
export async function verifySignature(
  didKey: string,
  msg: Uint8Array,
  sig: Uint8Array,
  opts?: VerifyOptions,
): Promise<boolean> {
  return verifySignatureSync(didKey, msg, sig, opts)
}
