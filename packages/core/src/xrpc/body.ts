/**
 * Request body handling: encoding checks, size limits counted as bytes arrive (after content-decoding,
 * so a compressed bomb cannot slip past), and JSON parsing. Nothing here buffers a non-JSON body.
 */
import { InvalidRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from './xrpc-error.js'

/** `type/subtype` of a Content-Type header, lower-cased, without parameters. */
export function normalizeMime(value: string | null): string | null {
  if (!value) return null
  const semi = value.indexOf(';')
  const mime = (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase()
  return /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(mime) ? mime : null
}

/** Whether `mime` matches one of the accepted encodings (`*\/*`, `image/*`, exact). */
export function matchesEncoding(accepted: readonly string[], mime: string): boolean {
  for (const a of accepted) {
    if (a === '*/*' || a === mime) return true
    if (a.endsWith('/*') && mime.startsWith(a.slice(0, -1))) return true
  }
  return false
}

/** Split a lexicon encoding declaration (`"image/png, image/jpeg"`) into MIME patterns. */
export function parseEncodingList(encoding: string): string[] {
  return encoding
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean)
}

/** Whether a request carries a body, judged from its headers like the reference does. */
export function bodyPresence(request: Request): 'present' | 'empty' | 'missing' {
  const h = request.headers
  if (h.has('transfer-encoding')) return 'present'
  const len = h.get('content-length')
  if (len === '0') return 'empty'
  if (len !== null) return 'present'
  // A Web Request built by hand may carry a body without either header.
  return request.body ? 'present' : 'missing'
}

/**
 * The request body as a stream that errors with 413 once `maxSize` bytes have passed, decoded from
 * gzip/deflate when `Content-Encoding` says so (415 for anything else).
 */
export function limitedBody(request: Request, maxSize: number): ReadableStream<Uint8Array> {
  const declared = request.headers.get('content-length')
  if (declared !== null) {
    if (!/^[0-9]+$/.test(declared)) throw new InvalidRequestError('invalid content-length')
    if (Number(declared) > maxSize && !request.headers.has('content-encoding'))
      throw new PayloadTooLargeError()
  }
  let body: ReadableStream<Uint8Array> = request.body ?? new ReadableStream({ start: (c) => c.close() })
  const codings = (request.headers.get('content-encoding') ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s && s !== 'identity')
  // Codings are listed in the order applied, so undo them from the last.
  for (const coding of codings.reverse()) {
    if (coding === 'gzip' || coding === 'x-gzip' || coding === 'deflate') {
      const format = coding === 'deflate' ? 'deflate' : 'gzip'
      body = body.pipeThrough(
        new DecompressionStream(format) as unknown as TransformStream<Uint8Array, Uint8Array>,
      )
    } else {
      throw new UnsupportedMediaTypeError('unsupported content-encoding')
    }
  }
  // A pull stream (not a TransformStream) so read errors can be re-typed: a broken gzip stream or a
  // dropped upload is the client's fault (400), never a 500 from whichever handler was reading.
  const reader = body.getReader()
  let seen = 0
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let chunk: ReadableStreamReadResult<Uint8Array>
        try {
          chunk = await reader.read()
        } catch (err) {
          controller.error(new InvalidRequestError('could not read request body', undefined, { cause: err }))
          return
        }
        if (chunk.done) return controller.close()
        seen += chunk.value.byteLength
        if (seen > maxSize) {
          controller.error(new PayloadTooLargeError())
          reader.cancel().catch(() => {})
        } else controller.enqueue(chunk.value)
      },
      cancel(reason) {
        return reader.cancel(reason)
      },
    },
    { highWaterMark: 0 },
  )
}

/** Read a whole (already limited) stream into one buffer. */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  let total = 0
  const reader = stream.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      chunks.push(value)
      total += value.byteLength
    }
  } finally {
    reader.releaseLock()
  }
  if (chunks.length === 1) return chunks[0]
  const out = new Uint8Array(total)
  let off = 0
  for (const c of chunks) {
    out.set(c, off)
    off += c.byteLength
  }
  return out
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Parse a JSON body; malformed bytes or JSON are a 400, never a 500. */
export async function readJson(stream: ReadableStream<Uint8Array>): Promise<unknown> {
  const bytes = await readAll(stream)
  let text: string
  try {
    text = utf8.decode(bytes)
  } catch {
    throw new InvalidRequestError('Request body is not valid UTF-8')
  }
  try {
    return JSON.parse(text)
  } catch {
    throw new InvalidRequestError('Request body is not valid JSON')
  }
}
