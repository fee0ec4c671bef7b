/**
 * Node `http` / Express glue: turn `IncomingMessage` into a Web `Request` without buffering, and write
 * the `Response` back with backpressure. If you are writing glue for another framework, keep it this
 * thin: the logic lives in the fetch handler.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'

/** Client details the fetch handler cannot read from a Web Request. */
export interface NodeConnectionInfo {
  remoteAddress?: string
}

/** Anything with a fetch-style handler; `owns` says which URLs it answers (default: `/xrpc/*`). */
export interface NodeFetchHandler {
  fetch(request: Request, connection?: NodeConnectionInfo): Promise<Response>
  owns?(url: string): boolean
}

/** Options of {@link toNodeHandler}. */
export interface NodeHandlerOptions {
  /**
   * Trust `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Forwarded-For` (set it only behind a proxy
   * that overwrites them; otherwise clients could spoof their origin and IP).
   */
  trustProxy?: boolean
}

/** Node/Express request handler; `next` is Express's, called for URLs the handler does not own. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void

function firstValue(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v
  if (!s) return undefined
  const comma = s.indexOf(',')
  return (comma === -1 ? s : s.slice(0, comma)).trim() || undefined
}

function requestUrl(req: IncomingMessage, trustProxy: boolean): string {
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true
  let proto = encrypted ? 'https' : 'http'
  let host = req.headers.host
  if (trustProxy) {
    const fp = firstValue(req.headers['x-forwarded-proto'])
    if (fp === 'http' || fp === 'https') proto = fp
    host = firstValue(req.headers['x-forwarded-host']) ?? host
  }
  // Express rewrites `req.url` under a mount path; the original is what the client asked for.
  const path = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/'
  const url = `${proto}://${host && /^[a-zA-Z0-9.\-:[\]]+$/.test(host) ? host : 'localhost'}${path}`
  return URL.canParse(url) ? url : `${proto}://localhost/`
}

/** The remote address, from `X-Forwarded-For` only when the proxy is trusted. */
export function remoteAddress(req: IncomingMessage, trustProxy = false): string | undefined {
  if (trustProxy) {
    const fwd = firstValue(req.headers['x-forwarded-for'])
    if (fwd) return fwd
  }
  return req.socket.remoteAddress
}

/** Stops feeding a request's body into its stream, for bodies the handler left unread. */
const drains = new WeakMap<IncomingMessage, () => void>()

/** Discard the rest of `req`'s body (the response is out) so a keep-alive connection can go on. */
function drainRequest(req: IncomingMessage): void {
  drains.get(req)?.()
  if (!req.complete) req.resume()
}

/** A pull-based byte stream over `req`: Node pauses the socket whenever the consumer is not reading. */
function bodyStream(req: IncomingMessage): ReadableStream<Uint8Array> {
  let open = true
  let controllerRef: ReadableStreamDefaultController<Uint8Array> | undefined
  const onData = (chunk: Buffer) => {
    if (!open) return
    controllerRef!.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
    if ((controllerRef!.desiredSize ?? 0) <= 0) req.pause()
  }
  // Without this, the stream's full queue would pause the socket again and the next request on the
  // connection would never be read.
  const stop = () => {
    open = false
    req.off('data', onData)
  }
  drains.set(req, stop)
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controllerRef = controller
        req.on('data', onData)
        req.once('end', () => {
          if (open) controller.close()
          open = false
        })
        req.once('error', (err) => {
          if (open) controller.error(err)
          open = false
        })
        req.pause()
      },
      pull() {
        req.resume()
      },
      cancel() {
        // The handler stopped reading (e.g. 413): discard the rest instead of stalling the socket.
        stop()
        req.resume()
      },
    },
    { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
  )
}

/** Build the Web `Request` for a Node request, streaming its body. */
export function toWebRequest(req: IncomingMessage, signal: AbortSignal, trustProxy = false): Request {
  const headers = new Headers()
  const raw = req.rawHeaders
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]
    // Pseudo-headers (HTTP/2) are not valid header names for the fetch API.
    if (name.charCodeAt(0) === 58) continue
    try {
      headers.append(name, raw[i + 1])
    } catch {
      // A header value the fetch API refuses; drop it rather than fail the request.
    }
  }
  const method = req.method ?? 'GET'
  const hasBody =
    method !== 'GET' &&
    method !== 'HEAD' &&
    (req.headers['transfer-encoding'] !== undefined ||
      (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0'))
  return new Request(requestUrl(req, trustProxy), {
    method,
    headers,
    body: hasBody ? bodyStream(req) : null,
    signal,
    // @ts-expect-error `duplex` is required by Node to stream a request body but missing from the DOM types
    duplex: 'half',
  })
}

/** Write a Web `Response` to a Node response, honouring backpressure and client aborts. */
export async function writeWebResponse(
  res: ServerResponse,
  response: Response,
  signal: AbortSignal,
): Promise<void> {
  const headers: Record<string, string | string[]> = {}
  for (const [name, value] of response.headers) {
    if (name === 'set-cookie') continue
    headers[name] = value
  }
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) headers['set-cookie'] = cookies
  if (!response.body) {
    res.writeHead(response.status, response.statusText || undefined, headers)
    res.end()
    return
  }
  const reader = response.body.getReader()
  const onAbort = () => reader.cancel().catch(() => {})
  signal.addEventListener('abort', onAbort)
  try {
    // A body that arrives in one chunk (every JSON answer) goes out with its length, headers and body
    // in one write: no chunked encoding, no separate terminating packet.
    const first = await reader.read()
    const second = first.done ? first : await reader.read()
    if (second.done) {
      const body = first.done ? undefined : first.value
      const bodiless = response.status === 204 || response.status === 304 || response.status < 200
      if (!bodiless && headers['content-length'] === undefined && !headers['transfer-encoding'])
        headers['content-length'] = String(body?.byteLength ?? 0)
      res.writeHead(response.status, response.statusText || undefined, headers)
      res.end(body)
      return
    }
    res.writeHead(response.status, response.statusText || undefined, headers)
    const queued = [first.value!, second.value]
    for (;;) {
      let value: Uint8Array
      if (queued.length > 0) value = queued.shift()!
      else {
        const next = await reader.read()
        if (next.done) break
        value = next.value
      }
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          const finish = () => {
            res.off('drain', finish)
            res.off('close', finish)
            resolve()
          }
          res.on('drain', finish)
          res.on('close', finish)
        })
        if (signal.aborted) break
      }
    }
    res.end()
  } catch (err) {
    // Mid-stream failure: the status is already sent, so the only honest signal is a broken connection.
    if (!signal.aborted) res.destroy(err instanceof Error ? err : new Error(String(err)))
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

const NOT_FOUND = JSON.stringify({ error: 'NotFound', message: 'Not Found' })
const INTERNAL = JSON.stringify({ error: 'InternalServerError', message: 'Internal Server Error' })

/**
 * A Node request listener / Express middleware for a fetch handler. Mount it before any body parser:
 * it streams the raw body. URLs it does not own go to `next()`, or get a 404 JSON without `next`.
 */
export function toNodeHandler(handler: NodeFetchHandler, options: NodeHandlerOptions = {}): NodeHandler {
  const trustProxy = options.trustProxy ?? false
  const owns = handler.owns ? (url: string) => handler.owns!(url) : (url: string) => url.startsWith('/xrpc/')
  return (req, res, next) => {
    const url = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/'
    if (!owns(url)) {
      if (next) return next()
      res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' }).end(NOT_FOUND)
      return
    }
    const ac = new AbortController()
    // `close` on the response before it finished means the client went away.
    res.once('close', () => {
      if (!res.writableFinished) ac.abort()
    })
    // A body the handler left unread (e.g. rejected early) is drained so keep-alive connections go on.
    res.once('finish', () => drainRequest(req))
    const run = async () => {
      const request = toWebRequest(req, ac.signal, trustProxy)
      const response = await handler.fetch(request, { remoteAddress: remoteAddress(req, trustProxy) })
      await writeWebResponse(res, response, ac.signal)
    }
    run().catch((err) => {
      if (ac.signal.aborted) return
      console.error('next-atproto: fetch handler failed', err)
      if (!res.headersSent)
        res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' }).end(INTERNAL)
      else res.destroy()
    })
  }
}
