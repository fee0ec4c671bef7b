/**
 * atproto JSON <-> IPLD data model (data-model.md): `{"$link": cid}` is a CID link, `{"$bytes": base64}`
 * (standard alphabet, no padding) is bytes; blob refs are ordinary objects holding a `$link`.
 */
import { CID, isBlessedCid } from './cid.js'
import { InvalidJsonDataError } from './errors.js'

export { InvalidJsonDataError }

const MAX_DEPTH = 128

function convertJson(value: unknown, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new InvalidJsonDataError('Data nested too deeply')
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value))
      throw new InvalidJsonDataError('Numbers must be safe integers (no floats)')
    return value
  }
  if (Array.isArray(value)) return value.map((v) => convertJson(v, depth + 1))
  if (typeof value === 'object') {
    const obj = value as Record<string, unknown>
    const keys = Object.keys(obj)
    if ('$link' in obj) {
      // A link is exactly {"$link": "<cid>"}.
      if (keys.length !== 1 || typeof obj.$link !== 'string')
        throw new InvalidJsonDataError('Invalid $link object')
      let cid: CID
      try {
        cid = CID.parse(obj.$link)
      } catch {
        throw new InvalidJsonDataError(`Invalid CID in $link: ${obj.$link}`)
      }
      // Only the CIDs the strict CBOR decoder reads back (data-model.md "blessed" formats).
      if (!isBlessedCid(cid)) throw new InvalidJsonDataError(`CID format not allowed in $link: ${obj.$link}`)
      return cid
    }
    if ('$bytes' in obj) {
      if (keys.length !== 1 || typeof obj.$bytes !== 'string' || !/^[A-Za-z0-9+/]*$/.test(obj.$bytes)) {
        throw new InvalidJsonDataError('Invalid $bytes object (unpadded base64 string, no other fields)')
      }
      return new Uint8Array(Buffer.from(obj.$bytes, 'base64'))
    }
    if ('$type' in obj && (typeof obj.$type !== 'string' || obj.$type.length === 0)) {
      throw new InvalidJsonDataError('$type must be a non-empty string')
    }
    const out: Record<string, unknown> = {}
    for (const k of keys) {
      const v = obj[k]
      if (v !== undefined) out[k] = convertJson(v, depth + 1)
    }
    if (out.$type === 'blob') assertBlobRef(out)
    return out
  }
  throw new InvalidJsonDataError(`Unsupported JSON value: ${typeof value}`)
}

/** A blob ref (`$type: 'blob'`) must carry a CID `ref`, a `mimeType` and an integer `size`. */
function assertBlobRef(blob: Record<string, unknown>): void {
  if (!CID.asCID(blob.ref)) throw new InvalidJsonDataError('Blob ref must have a ref link')
  if (typeof blob.mimeType !== 'string') throw new InvalidJsonDataError('Blob ref must have a mimeType')
  if (typeof blob.size !== 'number' || !Number.isSafeInteger(blob.size) || blob.size < 0) {
    throw new InvalidJsonDataError('Blob ref size must be a non-negative integer')
  }
}

/** Convert a JSON document (a record, an XRPC body) whose top level must be an object. */
export function jsonDocumentToIpld(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidJsonDataError('The top level must be an object')
  }
  return jsonToIpld(value) as Record<string, unknown>
}

/** Convert parsed atproto JSON into IPLD values (CIDs, bytes). @throws InvalidJsonDataError */
export function jsonToIpld(value: unknown): unknown {
  return convertJson(value, 0)
}

/** Convert IPLD values into atproto JSON (`$link`, `$bytes`). */
export function ipldToJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString('base64').replace(/=+$/, '') }
  if (Array.isArray(value)) return value.map(ipldToJson)
  if (value !== null && typeof value === 'object') {
    const cid = CID.asCID(value)
    if (cid) return { $link: cid.toString() }
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = ipldToJson(v)
    return out
  }
  return value
}
