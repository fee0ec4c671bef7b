/**
 * The two curves of cryptography.md and what each backend needs to know about them.
 */
import { getCurves } from 'node:crypto'
import { p256 } from '@noble/curves/nist.js'
import { secp256k1 } from '@noble/curves/secp256k1.js'

/** A key algorithm by its JWT name: `ES256` is P-256, `ES256K` is secp256k1 (K-256). */
export type KeyAlg = 'ES256' | 'ES256K'

/** Per-curve constants. */
export interface CurveInfo {
  readonly alg: KeyAlg
  /** Multicodec varint prefix of the compressed public key in a multikey. */
  readonly multicodec: readonly [number, number]
  readonly noble: typeof p256 | typeof secp256k1
  /** OpenSSL curve name. */
  readonly nodeName: string
  /** DER of a SubjectPublicKeyInfo up to the 33-byte compressed point. */
  readonly spkiPrefix: Uint8Array
  /** DER of a SEC1 ECPrivateKey up to the 32-byte scalar, and its curve OID suffix. */
  readonly sec1Prefix: Uint8Array
  readonly sec1Suffix: Uint8Array
  /** Group order n, and n/2: a signature is low-S when s <= n/2. */
  readonly n: bigint
  readonly halfN: bigint
  /** n - 1 and n/2 as 32 big-endian bytes (range checks on signature bytes without bigints). */
  readonly nMinus1Bytes: Uint8Array
  readonly halfNBytes: Uint8Array
}

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'))

function info(
  alg: KeyAlg,
  multicodec: [number, number],
  noble: typeof p256 | typeof secp256k1,
  nodeName: string,
  curveOid: string,
): CurveInfo {
  const n = noble.Point.Fn.ORDER
  // SPKI: SEQ { SEQ { id-ecPublicKey, curve }, BIT STRING 00 <33 bytes> }
  const algId = `06072a8648ce3d0201${curveOid}`
  const algSeq = `30${(algId.length / 2).toString(16).padStart(2, '0')}${algId}`
  const spkiBody = `${algSeq}032200`
  const spkiLen = spkiBody.length / 2 + 33
  // SEC1: SEQ { INTEGER 1, OCTET STRING <32 bytes>, [0] { curve } }
  const sec1Len = 3 + 2 + 32 + 2 + curveOid.length / 2
  return {
    alg,
    multicodec,
    noble,
    nodeName,
    spkiPrefix: hex(`30${spkiLen.toString(16)}${spkiBody}`),
    sec1Prefix: hex(`30${sec1Len.toString(16)}0201010420`),
    sec1Suffix: hex(`a0${(curveOid.length / 2).toString(16).padStart(2, '0')}${curveOid}`),
    n,
    halfN: n >> 1n,
    nMinus1Bytes: bigIntTo32(n - 1n),
    halfNBytes: bigIntTo32(n >> 1n),
  }
}

export const P256: CurveInfo = info('ES256', [0x80, 0x24], p256, 'prime256v1', '06082a8648ce3d030107')
export const K256: CurveInfo = info('ES256K', [0xe7, 0x01], secp256k1, 'secp256k1', '06052b8104000a')

/** The curve of a key algorithm. */
export function curveOf(alg: KeyAlg): CurveInfo {
  return alg === 'ES256' ? P256 : K256
}

const nodeCurves = new Set(getCurves())
/** Whether this Node's OpenSSL has the curve (secp256k1 can be missing from some builds). */
export const nodeHasCurve = (c: CurveInfo): boolean => nodeCurves.has(c.nodeName)

/** Big-endian bytes to bigint. */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  let v = 0n
  for (const b of bytes) v = (v << 8n) | BigInt(b)
  return v
}

/** bigint to 32 big-endian bytes. */
export function bigIntTo32(v: bigint): Uint8Array {
  const out = new Uint8Array(32)
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn)
    v >>= 8n
  }
  return out
}
