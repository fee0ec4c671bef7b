/**
 * WebSocket upgrades for subscriptions on a Node `http` server, with `ws` in `noServer` mode. Only the
 * host's own subscription paths are taken; every other upgrade (Next.js HMR, the app's own sockets)
 * is left alone.
 */
import type { IncomingMessage, Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { type WebSocket, WebSocketServer } from 'ws'
import { installClientErrorHandler } from './client-error.js'
import { remoteAddress } from './to-node-handler.js'

/** The subset of {@link SubscriptionSocket} this adapter provides (kept structural: no core import). */
interface SocketLike {
  readonly bufferedAmount: number
  send(data: Uint8Array, cb: (err?: Error) => void): void
  close(code: number, reason?: string): void
  terminate(): void
  onClose(listener: () => void): void
}

/** What the adapter needs of the XRPC server (an `XrpcServer` fits). */
export interface NodeSubscriptionHost {
  isSubscription(url: string): boolean
  handleSubscription(
    request: Request,
    socket: SocketLike,
    connection?: { remoteAddress?: string },
  ): Promise<void>
}

/** Options of {@link createNodeWebSocket}. */
export interface NodeWebSocketOptions {
  /** Trust `X-Forwarded-*` headers for the request URL and client IP. */
  trustProxy?: boolean
  /** Largest message accepted from clients (they should send none); default 64 KiB. */
  maxPayload?: number
}

/** Upgrade handling for a Node server. */
export interface NodeWebSocket {
  /** Take the upgrade if it is ours and return true; return false (socket untouched) otherwise. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean
  /**
   * Listen for upgrades on `server`. Upgrades that are not ours are left to other listeners; when
   * there are none, they are refused so they do not hang. Also installs the XRPC `clientError`
   * answer for malformed requests ({@link installClientErrorHandler}).
   */
  injectWebSocket(server: Server): void
  /** Close every open subscription socket. */
  close(): Promise<void>
}

function wrap(ws: WebSocket): SocketLike {
  return {
    get bufferedAmount() {
      return ws.bufferedAmount
    },
    send(data, cb) {
      if (ws.readyState !== ws.OPEN) return cb(new Error('socket closed'))
      ws.send(data, { binary: true }, cb)
    },
    close(code, reason) {
      ws.close(code, reason)
    },
    terminate() {
      ws.terminate()
    },
    onClose(listener) {
      if (ws.readyState === ws.CLOSED) listener()
      else ws.once('close', listener)
    },
  }
}

function refuse(socket: Duplex, status: number, error: string, message: string): void {
  const body = JSON.stringify({ error, message })
  socket.end(
    `HTTP/1.1 ${status} ${error}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  )
}

/** Serve the host's subscriptions over WebSocket upgrades of a Node HTTP server. */
export function createNodeWebSocket(
  host: NodeSubscriptionHost,
  options: NodeWebSocketOptions = {},
): NodeWebSocket {
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload ?? 64 * 1024 })
  const trustProxy = options.trustProxy ?? false

  const handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    const url = req.url ?? '/'
    if (!host.isSubscription(url)) return false
    if (req.method !== 'GET') {
      refuse(socket, 405, 'MethodNotAllowed', `Incorrect HTTP method (${req.method}) expected GET`)
      return true
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      // Servers ignore client frames (event-stream.md); errors only end this one socket.
      ws.on('error', () => ws.terminate())
      const headers = new Headers()
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        try {
          headers.append(req.rawHeaders[i], req.rawHeaders[i + 1])
        } catch {}
      }
      const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true
      const request = new Request(new URL(url, `${encrypted ? 'https' : 'http'}://localhost`), { headers })
      host
        .handleSubscription(request, wrap(ws), { remoteAddress: remoteAddress(req, trustProxy) })
        .catch(() => ws.terminate())
    })
    return true
  }

  return {
    handleUpgrade,
    injectWebSocket(server) {
      installClientErrorHandler(server)
      server.on('upgrade', (req, socket, head) => {
        if (handleUpgrade(req, socket, head)) return
        // Only this listener: nobody else will answer, so refuse rather than leave the socket hanging.
        if (server.listenerCount('upgrade') === 1) {
          if ((req.url ?? '').startsWith('/xrpc/'))
            refuse(socket, 501, 'MethodNotImplemented', 'Method Not Implemented')
          else refuse(socket, 404, 'NotFound', 'Not Found')
        }
      })
    },
    async close() {
      for (const ws of wss.clients) ws.terminate()
      await new Promise<void>((resolve) => wss.close(() => resolve()))
    },
  }
}
