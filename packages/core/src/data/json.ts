/**
 * atproto JSON <-> IPLD data model (data-model.md): `{"$link": cid}` is a CID link, `{"$bytes": base64}`
 * (standard alphabet, no padding) is bytes; blob refs are ordinary objects holding a `$link`.
 */
import { CID } from './cid.js'

/** A JSON value that does not map onto the atproto data model. */
export class InvalidJsonDataError extends Error {
  override name = 'InvalidJsonDataError'
}

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
    if (keys.length === 1 && keys[0] === '$link') {
      if (typeof obj.$link !== 'string') throw new InvalidJsonDataError('$link must be a string')
      try {
        return CID.parse(obj.$link)
      } catch {
        throw new InvalidJsonDataError(`Invalid CID in $link: ${obj.$link}`)
      }
    }
    if (keys.length === 1 && keys[0] === '$bytes') {
      if (typeof obj.$bytes !== 'string' || !/^[A-Za-z0-9+/]*$/.test(obj.$bytes)) {
        throw new InvalidJsonDataError('$bytes must be unpadded base64')
      }
      return new Uint8Array(Buffer.from(obj.$bytes, 'base64'))
    }
    const out: Record<string, unknown> = {}
    for (const k of keys) {
      const v = obj[k]
      if (v !== undefined) out[k] = convertJson(v, depth + 1)
    }
    return out
  }
  throw new InvalidJsonDataError(`Unsupported JSON value: ${typeof value}`)
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
