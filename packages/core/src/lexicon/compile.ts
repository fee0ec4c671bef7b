/**
 * Compiles lexicon definitions into check functions, once per definition. A check returns nothing on
 * success and a {@link Failure} otherwise; paths are collected on the way out (innermost first), so a
 * valid value costs no string building. Values may be in the IPLD form (CID, Uint8Array, as decoded
 * from CBOR or converted from JSON) or in atproto JSON (`{$link}`, `{$bytes}`), as XRPC bodies arrive.
 */
import { CID } from '../data/cid.js'
import {
  isValidAtUri,
  isValidCidString,
  isValidDatetime,
  isValidDatetimeSyntax,
  isValidLanguage,
  isValidUri,
} from '../syntax/formats.js'
import {
  isValidAtIdentifier,
  isValidDid,
  isValidHandle,
  isValidNsid,
  isValidRecordKey,
  isValidTid,
} from '../syntax/identifiers.js'
import type { LexDef } from './types.js'

/** Why a value failed: the path segments (innermost first) and the message for the innermost one. */
export interface Failure {
  path: Array<string | number>
  message: string
}

/** A compiled check. */
export type Check = (value: unknown) => Failure | undefined

/** What the compiler needs from the lexicon set: lazily compiled checks of named definitions. */
export interface CheckResolver {
  /** The compiled check of an absolute definition URI (`nsid` for main, `nsid#name`). */
  checkOf(uri: string): Check
}

type Obj = Record<string, unknown>

const fail = (message: string): Failure => ({ path: [], message })

/** A plain data-model object (not an array, bytes or a CID). */
export function isObject(v: unknown): v is Obj {
  if (typeof v !== 'object' || v === null) return false
  const proto = Object.getPrototypeOf(v)
  if (proto === Object.prototype || proto === null) return true
  return !Array.isArray(v) && !(v instanceof Uint8Array) && CID.asCID(v) === null
}

/** Absolute URI of a reference made inside document `docId`; `#main` is dropped (`nsid` names main). */
export function refUri(ref: string, docId: string): string {
  const abs = ref.startsWith('#') ? `${docId}${ref}` : ref
  return abs.endsWith('#main') ? abs.slice(0, -5) : abs
}

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/

function jsonBytesLength(v: Obj): number | undefined {
  const b = v.$bytes
  if (typeof b !== 'string' || !BASE64_RE.test(b)) return undefined
  for (const k in v) if (k !== '$bytes') return undefined
  const unpadded = b.replace(/=+$/, '').length
  if (unpadded % 4 === 1) return undefined
  return Math.floor((unpadded * 3) / 4)
}

/** Byte length of a bytes value (Uint8Array or `{$bytes}`), undefined if it is not one. */
function bytesLength(v: unknown): number | undefined {
  if (v instanceof Uint8Array) return v.byteLength
  return isObject(v) ? jsonBytesLength(v) : undefined
}

/** Whether `v` is a CID link (a CID, or `{$link: "<cid>"}`). */
export function isCidLink(v: unknown): boolean {
  if (CID.asCID(v) !== null) return true
  if (!isObject(v) || typeof v.$link !== 'string') return false
  for (const k in v) if (k !== '$link') return false
  try {
    CID.parse(v.$link)
    return true
  } catch {
    return false
  }
}

/** The `mimeType` and `size` of a blob ref (legacy `{cid, mimeType}` has no size), or undefined. */
function blobInfo(v: unknown): { mimeType: string; size: number | undefined } | undefined {
  if (!isObject(v)) return undefined
  const { mimeType } = v
  if (typeof mimeType !== 'string' || mimeType === '') return undefined
  if (v.$type === 'blob') {
    const { size } = v
    if (!isCidLink(v.ref) || typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
      return undefined
    return { mimeType, size }
  }
  // The legacy form (data-model.md): readable for known lexicons, never written by us.
  if (v.$type === undefined && typeof v.cid === 'string' && isValidCidString(v.cid)) {
    return { mimeType, size: undefined }
  }
  return undefined
}

/** Whether a MIME type matches one of `accept` (`image/png`, `image/*`, `*\/*`). */
export function mimeAccepted(accept: readonly string[], mimeType: string): boolean {
  const mime = mimeType.toLowerCase()
  for (const pattern of accept) {
    const p = pattern.toLowerCase()
    if (p === '*/*' || p === mime) return true
    if (p.endsWith('/*') && mime.startsWith(p.slice(0, -1))) return true
  }
  return false
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
const digits = (s: string, from: number, to: number) => Number(s.slice(from, to))

/**
 * {@link isValidDatetime} with a fast path for the common shape (UTC `Z`, a real calendar date, no
 * leap second, at most nanoseconds), decided by arithmetic instead of `Date` parsing: every record's
 * `createdAt` goes through here. Anything else takes the full check. Agreement is tested.
 */
export function isDatetime(s: string): boolean {
  const n = s.length
  if (n >= 20 && n <= 30 && s.charCodeAt(n - 1) === 90 /* Z */ && isValidDatetimeSyntax(s)) {
    const year = digits(s, 0, 4)
    const month = digits(s, 5, 7)
    const day = digits(s, 8, 10)
    const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
    const dim = month === 2 && leap ? 29 : DAYS[month - 1]
    if (
      year > 0 &&
      dim !== undefined &&
      day >= 1 &&
      day <= dim &&
      digits(s, 11, 13) <= 23 &&
      digits(s, 14, 16) <= 59 &&
      digits(s, 17, 19) <= 59
    ) {
      return true
    }
  }
  return isValidDatetime(s)
}

const FORMATS: Record<string, [(s: string) => boolean, string]> = {
  datetime: [isDatetime, 'must be an valid atproto datetime (both RFC-3339 and ISO-8601)'],
  uri: [isValidUri, 'must be a uri'],
  'at-uri': [isValidAtUri, 'must be a valid at-uri'],
  did: [isValidDid, 'must be a valid did'],
  handle: [isValidHandle, 'must be a valid handle'],
  'at-identifier': [isValidAtIdentifier, 'must be a valid did or a handle'],
  nsid: [isValidNsid, 'must be a valid nsid'],
  cid: [isValidCidString, 'must be a cid string'],
  language: [isValidLanguage, 'must be a well-formed BCP 47 language tag'],
  tid: [isValidTid, 'must be a valid TID'],
  'record-key': [isValidRecordKey, 'must be a valid Record Key'],
}

let segmenter: Intl.Segmenter | undefined

/** Grapheme clusters in `s`, counting no further than `stop`. */
function graphemes(s: string, stop: number): number {
  segmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' })
  let n = 0
  for (const _ of segmenter.segment(s)) if (++n > stop) break
  return n
}

function codePoints(s: string): number {
  let n = s.length
  for (let i = 1; i < s.length; i++) {
    // A low surrogate right after a high one completes that code point; a lone one is its own.
    const c = s.charCodeAt(i)
    if (c >= 0xdc00 && c <= 0xdfff) {
      const prev = s.charCodeAt(i - 1)
      if (prev >= 0xd800 && prev <= 0xdbff) n--
    }
  }
  return n
}

const PRINTABLE_ASCII_RE = /^[\x20-\x7e]*$/

function utf8Length(s: string): number {
  return PRINTABLE_ASCII_RE.test(s) ? s.length : Buffer.byteLength(s, 'utf8')
}

function compileString(def: LexDef): Check {
  const cst = def.const as string | undefined
  const enumSet = Array.isArray(def.enum) ? new Set(def.enum as string[]) : undefined
  const enumText = enumSet ? `must be one of (${[...enumSet].join('|')})` : ''
  const minLength = def.minLength as number | undefined
  const maxLength = def.maxLength as number | undefined
  const minGraphemes = def.minGraphemes as number | undefined
  const maxGraphemes = def.maxGraphemes as number | undefined
  const format = typeof def.format === 'string' ? FORMATS[def.format] : undefined
  const lengths = minLength !== undefined || maxLength !== undefined
  const clusters = minGraphemes !== undefined || maxGraphemes !== undefined
  return (v) => {
    if (typeof v !== 'string') return fail('must be a string')
    if (cst !== undefined && v !== cst) return fail(`must be ${cst}`)
    if (enumSet && !enumSet.has(v)) return fail(enumText)
    if (lengths) {
      // A UTF-16 unit is 1-3 UTF-8 bytes: most strings are decided without counting.
      const n = v.length
      const sure =
        (minLength === undefined || n >= minLength) && (maxLength === undefined || n * 3 <= maxLength)
      if (!sure) {
        const bytes = utf8Length(v)
        if (minLength !== undefined && bytes < minLength)
          return fail(`must not be shorter than ${minLength} characters`)
        if (maxLength !== undefined && bytes > maxLength)
          return fail(`must not be longer than ${maxLength} characters`)
      }
    }
    if (clusters) {
      // A grapheme is at least one UTF-16 unit; printable ASCII is one grapheme per unit.
      const n = v.length
      if (minGraphemes !== undefined && n < minGraphemes)
        return fail(`must not be shorter than ${minGraphemes} graphemes`)
      // A grapheme is at least one code point too: segmenting (slow) is for strings that could exceed.
      const needMax = maxGraphemes !== undefined && n > maxGraphemes && codePoints(v) > maxGraphemes
      if (needMax || minGraphemes !== undefined) {
        const count = PRINTABLE_ASCII_RE.test(v) ? n : graphemes(v, maxGraphemes ?? Number.POSITIVE_INFINITY)
        if (maxGraphemes !== undefined && count > maxGraphemes)
          return fail(`must not be longer than ${maxGraphemes} graphemes`)
        if (minGraphemes !== undefined && count < minGraphemes)
          return fail(`must not be shorter than ${minGraphemes} graphemes`)
      }
    }
    if (format && !format[0](v)) return fail(format[1])
    return undefined
  }
}

function compileInteger(def: LexDef): Check {
  const cst = def.const as number | undefined
  const enumSet = Array.isArray(def.enum) ? new Set(def.enum as number[]) : undefined
  const enumText = enumSet ? `must be one of (${[...enumSet].join('|')})` : ''
  const min = def.minimum as number | undefined
  const max = def.maximum as number | undefined
  return (v) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) return fail('must be an integer')
    if (cst !== undefined && v !== cst) return fail(`must be ${cst}`)
    if (enumSet && !enumSet.has(v)) return fail(enumText)
    if (max !== undefined && v > max) return fail(`can not be greater than ${max}`)
    if (min !== undefined && v < min) return fail(`can not be less than ${min}`)
    return undefined
  }
}

function compileBoolean(def: LexDef): Check {
  const cst = def.const as boolean | undefined
  return (v) => {
    if (typeof v !== 'boolean') return fail('must be a boolean')
    if (cst !== undefined && v !== cst) return fail(`must be ${cst}`)
    return undefined
  }
}

function compileBytes(def: LexDef): Check {
  const min = def.minLength as number | undefined
  const max = def.maxLength as number | undefined
  return (v) => {
    const n = bytesLength(v)
    if (n === undefined) return fail('must be a byte array')
    if (max !== undefined && n > max) return fail(`must not be larger than ${max} bytes`)
    if (min !== undefined && n < min) return fail(`must not be smaller than ${min} bytes`)
    return undefined
  }
}

const checkCidLink: Check = (v) => (isCidLink(v) ? undefined : fail('must be a CID'))

function compileBlob(def: LexDef): Check {
  const accept = Array.isArray(def.accept) ? (def.accept as string[]) : undefined
  const maxSize = def.maxSize as number | undefined
  return (v) => {
    const info = blobInfo(v)
    if (!info) return fail('should be a blob ref')
    if (accept && !mimeAccepted(accept, info.mimeType))
      return fail(`has a mimeType (${info.mimeType}) not accepted: ${accept.join(', ')}`)
    if (maxSize !== undefined && info.size !== undefined && info.size > maxSize)
      return fail(`must not be larger than ${maxSize} bytes (size ${info.size})`)
    return undefined
  }
}

/** `unknown`: any data-model object, but not a blob, link or bytes in disguise (lexicon.md). */
const checkUnknown: Check = (v) => {
  if (!isObject(v) || v.$type === 'blob' || '$link' in v || '$bytes' in v) return fail('must be an object')
  return undefined
}

function compileArray(def: LexDef, docId: string, r: CheckResolver): Check {
  const items = compileField(def.items as LexDef, docId, r)
  const min = def.minLength as number | undefined
  const max = def.maxLength as number | undefined
  return (v) => {
    if (!Array.isArray(v)) return fail('must be an array')
    if (max !== undefined && v.length > max) return fail(`must not have more than ${max} elements`)
    if (min !== undefined && v.length < min) return fail(`must not have fewer than ${min} elements`)
    for (let i = 0; i < v.length; i++) {
      const f = items(v[i])
      if (f) {
        f.path.push(i)
        return f
      }
    }
    return undefined
  }
}

/** An `object` definition: required and nullable properties; unknown fields are allowed. */
export function compileObject(def: LexDef, docId: string, r: CheckResolver): Check {
  const required = new Set((def.required as string[] | undefined) ?? [])
  const nullable = new Set((def.nullable as string[] | undefined) ?? [])
  const props = Object.entries((def.properties ?? {}) as Record<string, LexDef>).map(
    ([key, d]) => [key, compileField(d, docId, r), required.has(key), nullable.has(key)] as const,
  )
  return (v) => {
    if (!isObject(v)) return fail('must be an object')
    for (const [key, check, req, nul] of props) {
      const x = v[key]
      if (x === undefined) {
        if (req) return fail(`must have the property "${key}"`)
        continue
      }
      if (x === null && nul) continue
      const f = check(x)
      if (f) {
        f.path.push(key)
        return f
      }
    }
    return undefined
  }
}

function lazy(r: CheckResolver, uri: string): Check {
  let target: Check | undefined
  return (v) => (target ??= r.checkOf(uri))(v)
}

function compileUnion(def: LexDef, docId: string, r: CheckResolver): Check {
  const refs = (def.refs as string[]).map((ref) => refUri(ref, docId))
  const variants = new Map(refs.map((uri) => [uri, lazy(r, uri)]))
  const closed = def.closed === true
  const oneOf = `$type must be one of ${refs.join(', ')}`
  return (v) => {
    if (!isObject(v) || typeof v.$type !== 'string')
      return fail('must be an object which includes the "$type" property')
    const $type = v.$type.endsWith('#main') ? v.$type.slice(0, -5) : v.$type
    const check = variants.get($type)
    // Open unions accept variants this version of the lexicon does not know (lexicon.md).
    if (!check) return closed ? fail(oneOf) : undefined
    return check(v)
  }
}

/** Compile any field definition (the types allowed inside objects, arrays, params and bodies). */
export function compileField(def: LexDef, docId: string, r: CheckResolver): Check {
  switch (def.type) {
    case 'string':
      return compileString(def)
    case 'integer':
      return compileInteger(def)
    case 'boolean':
      return compileBoolean(def)
    case 'bytes':
      return compileBytes(def)
    case 'cid-link':
      return checkCidLink
    case 'blob':
      return compileBlob(def)
    case 'unknown':
      return checkUnknown
    case 'array':
      return compileArray(def, docId, r)
    case 'object':
      return compileObject(def, docId, r)
    case 'ref':
      return lazy(r, refUri(def.ref as string, docId))
    case 'union':
      return compileUnion(def, docId, r)
    case 'record':
      return compileObject(def.record as LexDef, docId, r)
    default:
      throw new TypeError(`lexicon: type ${def.type} can not be validated as data`)
  }
}

/** `Root/a/0/b` from a failure's reversed segments. */
export function failurePath(root: string, f: Failure): string {
  let path = root
  for (let i = f.path.length - 1; i >= 0; i--) path = path ? `${path}/${f.path[i]}` : String(f.path[i])
  return path
}
