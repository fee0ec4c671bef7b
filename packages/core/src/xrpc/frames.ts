/**
 * Event-stream framing (event-stream.md): each binary WebSocket message is a DAG-CBOR header
 * (`{op: 1, t: '#commit'}` or `{op: -1}`) followed by a DAG-CBOR payload.
 */
import { DEFAULT_MAX_CBOR_SIZE, decodeCbor, decodeCborFirst, encodeCbor } from '../data/cbor.js'
import { CID } from '../data/cid.js'
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

/** A binary WebSocket message that is not a valid event-stream frame (bad header, op or body). */
export class InvalidFrameError extends Error {
  override name = 'InvalidFrameError'
}

/** Limits of {@link decodeFrame}. */
export interface DecodeFrameOptions {
  /** Largest accepted frame in bytes (default 5,000,000: the firehose hard limit of sync.md). */
  maxSize?: number
}

/**
 * Decode one frame with the strict DAG-CBOR decoder; clients must drop the connection on an error.
 * @throws InvalidCborError when either item is not strict DAG-CBOR, InvalidFrameError on bad framing
 */
export function decodeFrame(bytes: Uint8Array, opts: DecodeFrameOptions = {}): Frame {
  const limits = { maxSize: opts.maxSize ?? DEFAULT_MAX_CBOR_SIZE }
  const { value: header, end } = decodeCborFirst(bytes, limits) as {
    value: { op?: unknown; t?: unknown } | null
    end: number
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    throw new InvalidFrameError('invalid frame header')
  if (end >= bytes.length) throw new InvalidFrameError('missing frame body')
  const body = decodeCbor(bytes.subarray(end), limits)
  if (body === null || typeof body !== 'object' || Array.isArray(body) || body instanceof Uint8Array)
    throw new InvalidFrameError('frame body must be an object')
  if (CID.asCID(body)) throw new InvalidFrameError('frame body must be an object')
  if (header.op === 1) {
    if (header.t !== undefined && typeof header.t !== 'string')
      throw new InvalidFrameError('invalid frame type')
    return { op: 1, t: header.t as string | undefined, body: body as Record<string, unknown> }
  }
  if (header.op === -1) {
    const b = body as { error?: unknown; message?: unknown }
    if (typeof b.error !== 'string') throw new InvalidFrameError('invalid error frame body')
    return {
      op: -1,
      body: typeof b.message === 'string' ? { error: b.error, message: b.message } : { error: b.error },
    }
  }
  throw new InvalidFrameError(`unknown frame op: ${String(header.op)}`)
}
