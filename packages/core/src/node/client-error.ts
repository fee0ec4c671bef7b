/**
 * Requests Node's HTTP parser rejects before any handler runs (conflicting `Transfer-Encoding` and
 * `Content-Length`, bytes that are not HTTP, oversize headers): by default Node answers them with an
 * empty `400 Bad Request`. This listener answers with an XRPC error body instead, and always closes
 * the socket (the parser cannot resynchronise on it).
 */
import type { Server } from 'node:http'
import type { Duplex } from 'node:stream'

interface ClientErrorAnswer {
  status: number
  reason: string
  error: string
  message: string
}

/** The answer for a parser error code (`err.code` of Node's `clientError` event). */
export function clientErrorAnswer(code: string | undefined): ClientErrorAnswer {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        reason: 'Request Header Fields Too Large',
        error: 'RequestHeaderFieldsTooLarge',
        message: 'Request headers are too large',
      }
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return {
        status: 408,
        reason: 'Request Timeout',
        error: 'RequestTimeout',
        message: 'The request was not received in time',
      }
    default:
      // The parser's own wording (e.g. "Invalid header value char") names the problem without echoing
      // the client's bytes back.
      return {
        status: 400,
        reason: 'Bad Request',
        error: 'InvalidRequest',
        message: `Malformed HTTP request${code?.startsWith('HPE_') ? ` (${code.slice(4).toLowerCase().replaceAll('_', ' ')})` : ''}`,
      }
  }
}

/** How long a socket may linger after the answer before it is destroyed (the client may not close it). */
const LINGER_MS = 2_000
/** How long a pipelined response in flight may take before the broken connection is cut anyway. */
const IN_FLIGHT_MS = 30_000

/**
 * A `clientError` listener: writes an XRPC JSON error (400, 408 or 431) when nothing has been sent on
 * the socket yet, then closes it. Never throws.
 */
export function xrpcClientErrorListener(
  err: Error & { code?: string; rawPacket?: unknown },
  socket: Duplex,
): void {
  try {
    const inFlight = (socket as { _httpMessage?: InFlight })._httpMessage
    // A reset or a half-written response: there is nobody to answer, or the status line is gone.
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy()
      return
    }
    // A pipelined request is still being answered (its body arrived whole; the garbage came after):
    // answer after it, so responses stay in order. A request whose own body broke gets the answer now.
    if (inFlight && !inFlight.writableFinished && inFlight.req?.complete) {
      inFlight.once('finish', () => answer(err, socket))
      setTimeout(() => socket.destroy(), IN_FLIGHT_MS).unref()
      return
    }
    answer(err, socket)
  } catch {
    socket.destroy()
  }
}

interface InFlight {
  headersSent?: boolean
  writableFinished?: boolean
  req?: { complete: boolean }
  once(event: 'finish', listener: () => void): void
}

function answer(err: Error & { code?: string; rawPacket?: unknown }, socket: Duplex): void {
  if (!socket.writable) return void socket.destroy()
  const { status, reason, error, message } = clientErrorAnswer(err.code)
  const body = JSON.stringify({ error, message })
  // A HEAD answer has no body (a client would read it as the start of a next response). Node hands us
  // only the chunk that failed to parse, so a HEAD whose oversize headers span several TCP reads is not
  // recognised and gets the body; the connection closes right after, so only strict clients notice.
  const head = Buffer.isBuffer(err.rawPacket) && err.rawPacket.subarray(0, 5).toString('latin1') === 'HEAD '
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${head ? '' : body}`,
  )
  setTimeout(() => socket.destroy(), LINGER_MS).unref()
}

const installed = new WeakSet<Server>()

/**
 * Answer malformed requests on `server` with XRPC JSON errors (see {@link xrpcClientErrorListener}).
 * Idempotent: a server gets the listener once, however many helpers install it.
 */
export function installClientErrorHandler(server: Server): void {
  if (installed.has(server)) return
  installed.add(server)
  server.on('clientError', xrpcClientErrorListener)
}
