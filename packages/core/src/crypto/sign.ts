/**
 * Signing: ECDSA over sha-256(msg), 64-byte compact, always low-S. node:crypto signs (~2x faster on
 * secp256k1, ~20x on P-256 than noble here) and its high-S half is folded to n - s; noble signs
 * (deterministic RFC 6979) where OpenSSL lacks the curve.
 */
import { createPrivateKey, type KeyObject, sign as nodeSignRaw } from 'node:crypto'
import { bigIntTo32, bytesToBigInt, type CurveInfo, nodeHasCurve } from './curves.js'

/** Fold a compact signature to its low-S twin (s -> n - s when s > n/2); both verify the same message. */
export function normalizeLowS(curve: CurveInfo, sig: Uint8Array): Uint8Array {
  const s = bytesToBigInt(sig.subarray(32))
  if (s <= curve.halfN) return sig
  const out = new Uint8Array(64)
  out.set(sig.subarray(0, 32))
  out.set(bigIntTo32(curve.n - s), 32)
  return out
}

/** The node:crypto private KeyObject of a raw scalar (SEC1 DER; OpenSSL derives the public point). */
export function nodePrivateKey(curve: CurveInfo, privateKey: Uint8Array): KeyObject {
  const der = new Uint8Array(curve.sec1Prefix.length + 32 + curve.sec1Suffix.length)
  der.set(curve.sec1Prefix)
  der.set(privateKey, curve.sec1Prefix.length)
  der.set(curve.sec1Suffix, curve.sec1Prefix.length + 32)
  return createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'sec1' })
}

/** Sign with a backend-specific private key handle. */
export function signCompact(
  curve: CurveInfo,
  privateKey: Uint8Array,
  nodeKey: KeyObject | null,
  msg: Uint8Array,
): Uint8Array {
  if (nodeKey) {
    const sig = nodeSignRaw('sha256', msg, { key: nodeKey, dsaEncoding: 'ieee-p1363' })
    return normalizeLowS(curve, new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength))
  }
  return curve.noble.sign(msg, privateKey, { prehash: true, lowS: true, format: 'compact' })
}

/** A node:crypto private key when this OpenSSL has the curve, else null (noble signs). */
export function maybeNodePrivateKey(curve: CurveInfo, privateKey: Uint8Array): KeyObject | null {
  return nodeHasCurve(curve) ? nodePrivateKey(curve, privateKey) : null
}
