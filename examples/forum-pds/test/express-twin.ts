// The Express twin of the forum: the same atproto app mounted the way the README tells Express users,
// so every XRPC test runs against both mounts.
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import express from 'express'
import { createNodeWebSocket, toNodeHandler } from 'next-atproto/node'
import { createForumAtproto } from '../lib/atproto.js'
import { freePort, type RunningApp } from './start-app.js'

/** Start the Express twin on a free loopback port. */
export async function startExpressTwin(): Promise<RunningApp> {
  const port = await freePort()
  const dataDir = mkdtempSync(join(tmpdir(), 'forum-express-'))
  const atproto = createForumAtproto({ publicUrl: `http://127.0.0.1:${port}`, dataDir })
  const app = express()
  app.use(toNodeHandler(atproto)) // before any body parser: blob and CAR bodies must stream raw
  app.use(express.json())
  app.get('/', (_req, res) => {
    res.send('<h1>Forum</h1>')
  })
  app.post('/api/echo', (req, res) => {
    res.json(req.body)
  })

  const server = app.listen(port, '127.0.0.1')
  await once(server, 'listening')
  const ws = createNodeWebSocket(atproto)
  ws.injectWebSocket(server)
  await atproto.start()
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      await ws.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await atproto.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
