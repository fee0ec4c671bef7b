import * as dagCbor from '@ipld/dag-cbor'
import { type CID, cidForBytes } from './cid.js'

/**
 * DAG-CBOR encoding of an IPLD value (CIDs as `CID`, bytes as `Uint8Array`).
 * @NOTE initial thin wrapper; the data-model module hardens it with the atproto restrictions.
 */
export function encodeCbor(value: unknown): Uint8Array {
  return dagCbor.encode(value)
}

/** Decode DAG-CBOR bytes into an IPLD value. */
export function decodeCbor(bytes: Uint8Array): unknown {
  return dagCbor.decode(bytes)
}

/** Encode a value and compute its CID in one step. */
export function encodeBlock(value: unknown): { cid: CID; bytes: Uint8Array } {
  const bytes = encodeCbor(value)
  return { cid: cidForBytes(bytes), bytes }
}
