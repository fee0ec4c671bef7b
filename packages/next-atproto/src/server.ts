import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { Duplex } from 'node:stream'
import {
  createNodeWebSocket,
  installClientErrorHandler,
  type NodeSubscriptionHost,
} from '@next-atproto/core/node'
import { REMOTE_ADDRESS_HEADER, setRemoteAddressSecret } from './remote-address.js'

/** Takes over the WebSocket upgrades it owns; returns false to leave the socket to someone else. */
export interface UpgradeHandler {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean
}

/** Options of {@link createNextServer}. */
export interface NextServerOptions {
  /**
   * The core app object (`createAtproto(...)`): started before listening, closed with the server, and
   * serving its subscriptions (the firehose) over WebSocket upgrades.
   */
  app: NodeSubscriptionHost & { start(): Promise<void>; close(): Promise<void> }
  /** Replace the default WebSocket handling (`createNodeWebSocket(app)`). */
  websocket?: UpgradeHandler
  /** Next.js dev mode (HMR); defaults to `NODE_ENV !== 'production'`. */
  dev?: boolean
  /** Directory of the Next.js app; defaults to the current directory. */
  dir?: string
  port?: number
  hostname?: string
}

/**
 * A custom Next.js server that adds the WebSocket upgrade route handlers cannot do.
 *
 * Next's request handler attaches its own `upgrade` listener to its server and ends every upgrade whose
 * path matches a route (so `/xrpc/com.atproto.sync.subscribeRepos` would be closed under `app/xrpc/[...nsid]`).
 * So Next gets a server that never listens, and we re-emit onto it only the upgrades we do not own
 * (HMR in dev, the app's own sockets). Upgrades nobody takes are closed rather than left hanging.
 * Requests Node's HTTP parser rejects get an XRPC JSON error, not Node's empty 400.
 */
export async function createNextServer(options: NextServerOptions): Promise<{
  server: Server
  url: string
  close(): Promise<void>
}> {
  const { default: next } = (await import('next')) as unknown as {
    default: (opts: Record<string, unknown>) => {
      prepare(): Promise<void>
      getRequestHandler(): (req: IncomingMessage, res: import('node:http').ServerResponse) => Promise<void>
      close?(): Promise<void>
    }
  }
  const dev = options.dev ?? process.env.NODE_ENV !== 'production'
  const hostname = options.hostname ?? 'localhost'
  const port = options.port ?? 3000
  const sink = createServer()
  const nextApp = next({ dev, dir: options.dir ?? process.cwd(), hostname, port, httpServer: sink })
  await nextApp.prepare()
  const handle = nextApp.getRequestHandler()

  const ws = options.websocket ?? createNodeWebSocket(options.app)
  // Route handlers never see the socket: hand them the client address in a header only this server
  // writes (always overwritten, and proven by a per-process secret), so per-address rate limits work.
  const secret = randomBytes(16).toString('hex')
  setRemoteAddressSecret(secret)
  const server = createServer((req, res) => {
    req.headers[REMOTE_ADDRESS_HEADER] = `${secret} ${req.socket.remoteAddress ?? ''}`
    handle(req, res).catch((err) => {
      console.error('next-atproto: Next.js request handler failed', err)
      if (res.headersSent) return void res.destroy()
      res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' })
      res.end(JSON.stringify({ error: 'InternalServerError', message: 'Internal Server Error' }))
    })
  })
  installClientErrorHandler(server)
  server.on('upgrade', (req, socket, head) => {
    if (ws.handleUpgrade(req, socket, head)) return
    if (sink.listenerCount('upgrade') > 0) sink.emit('upgrade', req, socket, head)
    else socket.destroy()
  })

  await options.app.start()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, hostname === 'localhost' ? undefined : hostname, () => resolve())
  })
  const address = server.address()
  const actualPort = typeof address === 'object' && address ? address.port : port
  return {
    server,
    url: `http://${hostname}:${actualPort}`,
    async close() {
      await (ws as Partial<{ close(): Promise<void> }>).close?.()
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      await closed
      await options.app.close()
      await nextApp.close?.()
    },
  }
}
