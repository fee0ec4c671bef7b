/**
 * Event-stream framing (event-stream.md): each binary WebSocket message is a DAG-CBOR header
 * (`{op: 1, t: '#commit'}` or `{op: -1}`) followed by a DAG-CBOR payload.
 */
import { decodeCbor, encodeCbor } from '../data/cbor.js'
import { toXrpcError, type XrpcErrorBody } from './xrpc-error.js'

/** A decoded frame. */
export type Frame =
  | { op: 1; t: string | undefined; body: Record<string, unknown> }
  | { op: -1; body: XrpcErrorBody }

/**
 * An already-encoded frame. Yield the same instance to every subscriber when broadcasting: it is
 * encoded once, not once per socket.
 */
export class EncodedFrame {
  constructor(readonly bytes: Uint8Array) {}
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength)
  out.set(a, 0)
  out.set(b, a.byteLength)
  return out
}

/** Encode a message frame of type `t` (short form `#commit`, or a full NSID ref for foreign types). */
export function encodeMessageFrame(t: string | undefined, body: unknown): Uint8Array {
  const header = t === undefined ? { op: 1 } : { op: 1, t }
  return concat(encodeCbor(header), encodeCbor(body))
}

/** Encode an error frame; `err` goes through the one XRPC error mapping (500s say nothing internal). */
export function encodeErrorFrame(err: unknown): Uint8Array {
  const body = toXrpcError(err).toJSON()
  return concat(encodeCbor({ op: -1 }), encodeCbor(body.message === undefined ? { error: body.error } : body))
}

/**
 * Frame a message yielded by a handler: `$type` (`com.atproto.sync.subscribeRepos#commit` or `#commit`)
 * or `t` gives the header type, shortened to `#name` when it belongs to `nsid`, and is left out of the body.
 */
export function messageToFrame(nsid: string, message: unknown): Uint8Array {
  if (message instanceof EncodedFrame) return message.bytes
  if (message === null || typeof message !== 'object' || Array.isArray(message)) {
    throw new TypeError('subscription messages must be objects')
  }
  const { $type, t, ...body } = message as { $type?: unknown; t?: unknown }
  const type = typeof $type === 'string' ? $type : typeof t === 'string' ? t : undefined
  return encodeMessageFrame(type === undefined ? undefined : shortType(nsid, type), body)
}

function shortType(nsid: string, type: string): string {
  const hash = type.indexOf('#')
  if (hash === -1) return type
  const prefix = type.slice(0, hash)
  return prefix === '' || prefix === nsid ? type.slice(hash) : type
}

/**
 * Byte length of the first CBOR data item in `bytes` (definite lengths only: DAG-CBOR forbids the
 * indefinite forms). Lets us split header and payload without re-encoding.
 */
function itemLength(bytes: Uint8Array, pos: number, depth = 0): number {
  if (depth > 64) throw new Error('CBOR nesting too deep')
  if (pos >= bytes.length) throw new Error('truncated CBOR')
  const first = bytes[pos]
  const major = first >> 5
  const info = first & 0x1f
  let arg: number
  let head: number
  if (info < 24) {
    arg = info
    head = 1
  } else if (info <= 27) {
    const n = 1 << (info - 24)
    if (pos + 1 + n > bytes.length) throw new Error('truncated CBOR')
    arg = 0
    for (let i = 0; i < n; i++) arg = arg * 256 + bytes[pos + 1 + i]
    head = 1 + n
  } else {
    throw new Error('unsupported CBOR encoding')
  }
  switch (major) {
    case 0:
    case 1:
    case 7:
      return head
    case 2:
    case 3:
      if (pos + head + arg > bytes.length) throw new Error('truncated CBOR')
      return head + arg
    case 6:
      return head + itemLength(bytes, pos + head, depth + 1)
    default: {
      // 4: array of `arg` items, 5: map of `arg` pairs
      let len = head
      const items = major === 5 ? arg * 2 : arg
      for (let i = 0; i < items; i++) len += itemLength(bytes, pos + len, depth + 1)
      return len
    }
  }
}

/** Decode one frame; invalid framing throws (clients must then drop the connection). */
export function decodeFrame(bytes: Uint8Array): Frame {
  const split = itemLength(bytes, 0)
  if (split >= bytes.length) throw new Error('missing frame body')
  const header = decodeCbor(bytes.subarray(0, split)) as { op?: unknown; t?: unknown }
  const body = decodeCbor(bytes.subarray(split))
  if (header === null || typeof header !== 'object') throw new Error('invalid frame header')
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new Error('frame body must be an object')
  if (header.op === 1) {
    if (header.t !== undefined && typeof header.t !== 'string') throw new Error('invalid frame type')
    return { op: 1, t: header.t as string | undefined, body: body as Record<string, unknown> }
  }
  if (header.op === -1) {
    const b = body as { error?: unknown; message?: unknown }
    if (typeof b.error !== 'string') throw new Error('invalid error frame body')
    return {
      op: -1,
      body: typeof b.message === 'string' ? { error: b.error, message: b.message } : { error: b.error },
    }
  }
  throw new Error(`unknown frame op: ${String(header.op)}`)
}
