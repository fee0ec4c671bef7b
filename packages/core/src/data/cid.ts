import { createHash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import { create as createDigest } from 'multiformats/hashes/digest'
import { InvalidCidError } from './errors.js'

export { CID }

/** Multicodec code of DAG-CBOR (records, commits, MST nodes). */
export const DAG_CBOR = 0x71
/** Multicodec code of raw bytes (blobs). */
export const RAW = 0x55
/** Multihash code of sha2-256, the only hash atproto uses. */
export const SHA2_256 = 0x12

/** sha-256 through node:crypto: ~10x faster than a JS implementation on these machines. */
export function sha256(bytes: Uint8Array): Uint8Array {
  const out = createHash('sha256').update(bytes).digest()
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
}

/** CIDv1 of `bytes` with the given codec (DAG-CBOR by default) and sha-256. */
export function cidForBytes(bytes: Uint8Array, codec: number = DAG_CBOR): CID {
  return CID.createV1(codec, createDigest(SHA2_256, sha256(bytes)))
}

/** CIDv1 (raw codec) of blob bytes. */
export function cidForRaw(bytes: Uint8Array): CID {
  return cidForBytes(bytes, RAW)
}

/** Whether a CID is of a format atproto allows (data-model.md): v1, dag-cbor or raw, sha-256. */
export function isBlessedCid(cid: CID): boolean {
  return (
    cid.version === 1 &&
    (cid.code === DAG_CBOR || cid.code === RAW) &&
    cid.multihash.code === SHA2_256 &&
    cid.multihash.size === 32
  )
}

/**
 * Parse a CID string from outside. Any valid CID parses unless `blessed` is set, which also requires
 * the formats of {@link isBlessedCid}. @throws InvalidCidError
 */
export function parseCid(s: string, opts: { blessed?: boolean } = {}): CID {
  if (typeof s !== 'string' || s.length === 0 || s.length > 256)
    throw new InvalidCidError('Invalid CID string')
  let cid: CID
  try {
    cid = CID.parse(s)
  } catch (err) {
    throw new InvalidCidError(`Invalid CID string: ${(err as Error).message}`)
  }
  if (opts.blessed && !isBlessedCid(cid)) throw new InvalidCidError('CID format not allowed in atproto')
  return cid
}

/** Decode binary CID bytes from outside (exactly one CID, nothing after it). @throws InvalidCidError */
export function decodeCidBytes(bytes: Uint8Array, opts: { blessed?: boolean } = {}): CID {
  let cid: CID
  try {
    cid = CID.decode(bytes)
  } catch (err) {
    throw new InvalidCidError(`Invalid CID bytes: ${(err as Error).message}`)
  }
  if (opts.blessed && !isBlessedCid(cid)) throw new InvalidCidError('CID format not allowed in atproto')
  return cid
}

// The text form of CIDs, cached per CID object. multiformats' toString costs 3-5 us on a freshly decoded
// CID here (it allocates a cache map per CID); this base32 encoder costs under 1 us, and a write or an
// export handles hundreds of fresh CIDs. Same string as toString() (CIDv1: multibase base32 lower).
const strings = new WeakMap<CID, string>()
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567'

/** `cid.toString()`, faster; also the key of in-memory CID maps. */
export function cidString(cid: CID): string {
  let s = strings.get(cid)
  if (s === undefined) {
    if (cid.version === 1) {
      const bytes = cid.bytes
      s = 'b'
      let bits = 0
      let value = 0
      for (let i = 0; i < bytes.length; i++) {
        value = ((value << 8) | bytes[i]!) & 0xfff
        bits += 8
        while (bits >= 5) {
          s += BASE32[(value >>> (bits - 5)) & 31]
          bits -= 5
        }
      }
      if (bits > 0) s += BASE32[(value << (5 - bits)) & 31]
    } else s = cid.toString()
    strings.set(cid, s)
  }
  return s
}
