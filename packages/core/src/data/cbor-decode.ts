/**
 * Strict DAG-CBOR (DRISL) decoding for bytes from outside: every rule is checked, and a violation is an
 * {@link InvalidCborError} naming it. @ipld/dag-cbor's decoder already refuses indefinite lengths,
 * non-minimal integers, duplicate keys, tags other than 42 and trailing bytes, but it accepts floats,
 * turns `undefined` into null, accepts keys out of canonical order, any CID codec and version, and
 * integers beyond 2^53 (as BigInt): this decoder refuses all of those, bounds size and depth, and checks
 * that strings are valid UTF-8. What it accepts re-encodes to the very same bytes.
 */
import { CID } from 'multiformats/cid'
import { Digest } from 'multiformats/hashes/digest'
import { InvalidCborError } from './errors.js'

/** Limits of {@link decodeCborStrict}. */
export interface DecodeCborOptions {
  /** Largest accepted input in bytes (default 5,000,000: the firehose's hard frame limit). */
  maxSize?: number
  /** Deepest accepted nesting of arrays and maps (default 128, as the JSON data model). */
  maxDepth?: number
}

/** Default {@link DecodeCborOptions.maxSize}. */
export const DEFAULT_MAX_CBOR_SIZE = 5_000_000
const DEFAULT_MAX_DEPTH = 128

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const DAG_CBOR = 0x71
const RAW = 0x55

class Decoder {
  pos = 0
  /** Offset of the payload of the last string read (map key order compares raw bytes). */
  strFrom = 0

  constructor(
    readonly bytes: Uint8Array,
    readonly end: number,
    readonly maxDepth: number,
  ) {}

  fail(code: ConstructorParameters<typeof InvalidCborError>[0], message: string, at = this.pos): never {
    throw new InvalidCborError(code, message, at)
  }

  need(n: number): void {
    if (this.end - this.pos < n) this.fail('truncated', 'unexpected end of input')
  }

  /** The argument of a head whose low 5 bits are `info` (after the initial byte), minimal form only. */
  arg(info: number, start: number): number {
    if (info < 24) return info
    const b = this.bytes
    let v: number
    if (info === 24) {
      this.need(1)
      v = b[this.pos]!
      this.pos += 1
      if (v < 24) this.fail('non-minimal', 'argument not minimally encoded', start)
    } else if (info === 25) {
      this.need(2)
      v = (b[this.pos]! << 8) | b[this.pos + 1]!
      this.pos += 2
      if (v < 0x100) this.fail('non-minimal', 'argument not minimally encoded', start)
    } else if (info === 26) {
      this.need(4)
      v = b[this.pos]! * 0x1000000 + ((b[this.pos + 1]! << 16) | (b[this.pos + 2]! << 8) | b[this.pos + 3]!)
      this.pos += 4
      if (v < 0x10000) this.fail('non-minimal', 'argument not minimally encoded', start)
    } else if (info === 27) {
      this.need(8)
      const hi =
        b[this.pos]! * 0x1000000 + ((b[this.pos + 1]! << 16) | (b[this.pos + 2]! << 8) | b[this.pos + 3]!)
      const lo =
        b[this.pos + 4]! * 0x1000000 + ((b[this.pos + 5]! << 16) | (b[this.pos + 6]! << 8) | b[this.pos + 7]!)
      this.pos += 8
      if (hi === 0) this.fail('non-minimal', 'argument not minimally encoded', start)
      // Above 2^53 - 1 a JS number is inexact: refused (the data model asks for 53-bit integers).
      if (hi > 0x1fffff) this.fail('integer-range', 'integer or length beyond 2^53 - 1', start)
      v = hi * 0x100000000 + lo
    } else if (info === 31) {
      return this.fail('indefinite-length', 'indefinite-length items are not allowed', start)
    } else {
      return this.fail('reserved', `reserved additional info ${info}`, start)
    }
    return v
  }

  item(depth: number): unknown {
    this.need(1)
    const start = this.pos
    const first = this.bytes[this.pos++]!
    const major = first >> 5
    const info = first & 0x1f
    switch (major) {
      case 0:
        return this.arg(info, start)
      case 1: {
        const n = this.arg(info, start)
        if (n > Number.MAX_SAFE_INTEGER - 1) this.fail('integer-range', 'integer below -(2^53 - 1)', start)
        return -1 - n
      }
      case 2: {
        const len = this.arg(info, start)
        this.need(len)
        const out = this.bytes.slice(this.pos, this.pos + len)
        this.pos += len
        return out
      }
      case 3:
        return this.string(info, start)
      case 4: {
        const len = this.arg(info, start)
        // Each item takes at least a byte: a length beyond what is left is a lie, not an allocation.
        this.need(len)
        if (depth >= this.maxDepth) this.fail('too-deep', `nesting deeper than ${this.maxDepth}`, start)
        const out = new Array(len)
        for (let i = 0; i < len; i++) out[i] = this.item(depth + 1)
        return out
      }
      case 5:
        return this.map(info, start, depth)
      case 6: {
        const tag = this.arg(info, start)
        if (tag !== 42) this.fail('tag', `CBOR tag ${tag} is not allowed (only 42, CID links)`, start)
        return this.cid()
      }
      default:
        return this.simple(info, start)
    }
  }

  string(info: number, start: number): string {
    const len = this.arg(info, start)
    this.need(len)
    const b = this.bytes
    const from = this.pos
    const to = from + len
    this.pos = to
    this.strFrom = from
    // Short ASCII (most keys and values) is cheaper by hand than through TextDecoder.
    if (len <= 32) {
      let s = ''
      let i = from
      for (; i < to; i++) {
        const c = b[i]!
        if (c >= 0x80) break
        s += String.fromCharCode(c)
      }
      if (i === to) return s
    }
    try {
      return utf8.decode(b.subarray(from, to))
    } catch {
      return this.fail('invalid-utf8', 'string is not valid UTF-8', start)
    }
  }

  map(info: number, start: number, depth: number): Record<string, unknown> {
    const len = this.arg(info, start)
    this.need(len * 2)
    if (depth >= this.maxDepth) this.fail('too-deep', `nesting deeper than ${this.maxDepth}`, start)
    const out: Record<string, unknown> = {}
    const b = this.bytes
    let prevFrom = -1
    let prevLen = 0
    for (let i = 0; i < len; i++) {
      const keyStart = this.pos
      this.need(1)
      const kb = b[this.pos]!
      if (kb >> 5 !== 3) this.fail('map-key-type', 'map keys must be strings', keyStart)
      this.pos++
      const key = this.string(kb & 0x1f, keyStart)
      const from = this.strFrom
      const klen = this.pos - from
      // Canonical order: shorter keys first, then bytewise; equal bytes are a duplicate.
      if (prevFrom >= 0) {
        let cmp = klen - prevLen
        if (cmp === 0) {
          for (let j = 0; j < klen && cmp === 0; j++) cmp = b[from + j]! - b[prevFrom + j]!
          if (cmp === 0) this.fail('duplicate-key', `duplicate map key ${JSON.stringify(key)}`, keyStart)
        }
        if (cmp < 0)
          this.fail('map-key-order', `map key ${JSON.stringify(key)} out of canonical order`, keyStart)
      }
      prevFrom = from
      prevLen = klen
      const value = this.item(depth + 1)
      if (key === '__proto__') {
        Object.defineProperty(out, key, { value, enumerable: true, configurable: true, writable: true })
      } else {
        out[key] = value
      }
    }
    return out
  }

  cid(): CID {
    const start = this.pos
    this.need(1)
    const first = this.bytes[this.pos++]!
    if (first >> 5 !== 2) this.fail('cid', 'tag 42 must hold a byte string', start)
    const len = this.arg(first & 0x1f, start)
    this.need(len)
    const b = this.bytes
    const p = this.pos
    this.pos += len
    // Exactly 0x00 + CIDv1 + (dag-cbor | raw) + sha2-256 + 32-byte digest.
    if (len < 1 || b[p] !== 0) this.fail('cid', 'CID bytes must start with 0x00', start)
    if (len < 5 || b[p + 1] !== 1) this.fail('cid', 'only CIDv1 links are allowed', start)
    if (b[p + 2] !== DAG_CBOR && b[p + 2] !== RAW)
      this.fail('cid-codec', 'CID codec must be dag-cbor (0x71) or raw (0x55)', start)
    if (b[p + 3] !== 0x12 || b[p + 4] !== 0x20) this.fail('cid', 'CID hash must be sha2-256', start)
    if (len !== 37) this.fail('cid', 'CID digest must be 32 bytes', start)
    // The layout is fully checked: build the CID from its parts (no varint re-parse). The CID owns a
    // copy; its digest is a view into it.
    const cidBytes = b.slice(p + 1, p + 37)
    return new CID(1, b[p + 2]!, new Digest(0x12, 32, cidBytes.subarray(4), cidBytes.subarray(2)), cidBytes)
  }

  simple(info: number, start: number): boolean | null {
    if (info === 20) return false
    if (info === 21) return true
    if (info === 22) return null
    if (info === 23) return this.fail('undefined', '`undefined` is not allowed', start)
    if (info >= 25 && info <= 27) return this.fail('float', 'floats are not allowed in atproto data', start)
    if (info === 31) return this.fail('indefinite-length', 'unexpected break', start)
    return this.fail('simple-value', `simple value ${info} is not allowed`, start)
  }
}

function decoderFor(bytes: Uint8Array, opts: DecodeCborOptions): Decoder {
  if (!(bytes instanceof Uint8Array)) throw new InvalidCborError('not-bytes', 'input must be a Uint8Array')
  const maxSize = opts.maxSize ?? DEFAULT_MAX_CBOR_SIZE
  if (bytes.length > maxSize)
    throw new InvalidCborError(
      'too-large',
      `input of ${bytes.length} bytes exceeds the ${maxSize} byte limit`,
    )
  // A plain view: Buffer#slice would alias the input instead of copying out byte strings.
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return new Decoder(view, view.length, opts.maxDepth ?? DEFAULT_MAX_DEPTH)
}

/** Decode exactly one strict DAG-CBOR item filling `bytes`. @throws InvalidCborError */
export function decodeCborStrict(bytes: Uint8Array, opts: DecodeCborOptions = {}): unknown {
  const d = decoderFor(bytes, opts)
  const value = d.item(0)
  if (d.pos !== d.end) d.fail('trailing-bytes', 'bytes after the end of the item')
  return value
}

/**
 * Decode the first strict DAG-CBOR item of `bytes` and say where it ended (event-stream frames are a
 * header item followed by a body item). @throws InvalidCborError
 */
export function decodeCborFirst(
  bytes: Uint8Array,
  opts: DecodeCborOptions = {},
): { value: unknown; end: number } {
  const d = decoderFor(bytes, opts)
  const value = d.item(0)
  return { value, end: d.pos }
}
