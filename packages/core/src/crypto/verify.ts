/**
 * Signature verification with the strictness of cryptography.md: ECDSA over sha-256(msg), the 64-byte
 * compact (r || s) form only (DER refused), low-S only, 1 <= r, s < n.
 *
 * Two backends verify exactly the same set of signatures (the conformance and differential tests run
 * every fixture through both): node:crypto (OpenSSL; ~5x faster on secp256k1, ~30x on P-256 here,
 * see bench/crypto.mjs), the default, and @noble/curves, the fallback when OpenSSL lacks a curve.
 */
import { createPublicKey, type KeyObject, verify as nodeVerifyRaw } from 'node:crypto'
import { type CurveInfo, curveOf, type KeyAlg, nodeHasCurve } from './curves.js'
import { parseDidKey } from './did-key.js'

/** A verification backend: `keyBytes` is a compressed public key already checked to be on the curve. */
export interface VerifyBackend {
  readonly name: 'node' | 'noble'
  verify(alg: KeyAlg, keyBytes: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean
}

/** Whether big-endian `a` (32 bytes at `off`) is <= big-endian `b` (32 bytes). */
function lessOrEqual(a: Uint8Array, off: number, b: Uint8Array): boolean {
  for (let i = 0; i < 32; i++) {
    const d = a[off + i]! - b[i]!
    if (d !== 0) return d < 0
  }
  return true
}

function isZero(a: Uint8Array, off: number): boolean {
  for (let i = 0; i < 32; i++) if (a[off + i] !== 0) return false
  return true
}

/**
 * The checks neither backend is trusted with: compact length, 1 <= r < n, 1 <= s <= n/2 (low-S;
 * OpenSSL accepts high-S). Bounds are compared on the bytes: this runs before every verify.
 */
export function isStrictCompactSignature(alg: KeyAlg, sig: Uint8Array): boolean {
  if (!(sig instanceof Uint8Array) || sig.length !== 64) return false
  const c = curveOf(alg)
  return (
    !isZero(sig, 0) &&
    lessOrEqual(sig, 0, c.nMinus1Bytes) &&
    !isZero(sig, 32) &&
    lessOrEqual(sig, 32, c.halfNBytes)
  )
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

// Importing a key costs more than a verify: one KeyObject per key, bounded. Looked up first by the
// identity of the key bytes (parseDidKey memoizes them), then by their value.
const byBytes: Record<KeyAlg, WeakMap<Uint8Array, KeyObject>> = {
  ES256: new WeakMap(),
  ES256K: new WeakMap(),
}
const byValue = new Map<string, KeyObject>()
const KEY_CACHE_MAX = 20_000

/** The node:crypto public KeyObject of a compressed point (SPKI DER, memoized). */
export function nodePublicKey(curve: CurveInfo, keyBytes: Uint8Array): KeyObject {
  let key = byBytes[curve.alg].get(keyBytes)
  if (key) return key
  const id = curve.alg + Buffer.from(keyBytes).toString('latin1')
  key = byValue.get(id)
  if (!key) {
    const der = new Uint8Array(curve.spkiPrefix.length + keyBytes.length)
    der.set(curve.spkiPrefix)
    der.set(keyBytes, curve.spkiPrefix.length)
    key = createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' })
    if (byValue.size >= KEY_CACHE_MAX) byValue.clear()
    byValue.set(id, key)
  }
  byBytes[curve.alg].set(keyBytes, key)
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
