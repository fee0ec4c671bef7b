/**
 * JSON encoding of atproto data-model values for XRPC responses: CIDs become `{"$link"}` and bytes
 * `{"$bytes"}` (base64, no padding), per the data-model spec.
 */
import { CID } from '../data/cid.js'

function bytesToBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64').replace(/=+$/, '')
}

// `this` is the holder: CID.toJSON has already run on `value`, so look at the original.
function replacer(this: any, key: string, value: unknown): unknown {
  const original = this[key]
  if (original instanceof Uint8Array) return { $bytes: bytesToBase64(original) }
  if (original !== null && typeof original === 'object') {
    const cid = CID.asCID(original)
    if (cid) return { $link: cid.toString() }
  }
  return value
}

/** Serialize a data-model value (CIDs, bytes) as atproto JSON. */
export function stringifyLexJson(value: unknown): string {
  return JSON.stringify(value, replacer)
}
