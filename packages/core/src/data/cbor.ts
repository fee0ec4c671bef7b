import * as dagCbor from '@ipld/dag-cbor'
import { type DecodeCborOptions, decodeCborStrict } from './cbor-decode.js'
import { type CID, cidForBytes } from './cid.js'

export {
  DEFAULT_MAX_CBOR_SIZE,
  type DecodeCborOptions,
  decodeCborFirst,
  decodeCborStrict,
} from './cbor-decode.js'

/**
 * DAG-CBOR encoding of an IPLD value (CIDs as `CID`, bytes as `Uint8Array`): @ipld/dag-cbor, so the
 * bytes are those of the reference implementation.
 */
export function encodeCbor(value: unknown): Uint8Array {
  return dagCbor.encode(value)
}

/**
 * Decode strict DAG-CBOR bytes (see {@link decodeCborStrict}: canonical, no floats, CIDv1 dag-cbor/raw
 * sha-256 links, bounded size and depth). @throws InvalidCborError
 */
export function decodeCbor(bytes: Uint8Array, opts?: DecodeCborOptions): unknown {
  return decodeCborStrict(bytes, opts)
}

/** Encode a value and compute its CID in one step. */
export function encodeBlock(value: unknown): { cid: CID; bytes: Uint8Array } {
  const bytes = encodeCbor(value)
  return { cid: cidForBytes(bytes), bytes }
}
