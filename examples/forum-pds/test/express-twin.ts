// The Express twin of the forum: the same atproto app mounted the way the README tells Express users,
// so every XRPC test runs against both mounts.
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import express from 'express'
import { createNodeWebSocket, toNodeHandler } from 'next-atproto/node'
import { createForum } from '../lib/atproto.js'
import { signUp } from '../lib/signup.js'
import { freePort, type RunningApp } from './start-app.js'

/** Start the Express twin on a free loopback port. */
export async function startExpressTwin(): Promise<RunningApp> {
  const port = await freePort()
  const dataDir = mkdtempSync(join(tmpdir(), 'forum-express-'))
  const forum = createForum({ publicUrl: `http://127.0.0.1:${port}`, dataDir })
  const { atproto } = forum
  const app = express()
  app.use(toNodeHandler(atproto)) // before any body parser: blob and CAR bodies must stream raw
  // The forum's sign-up, as app/api/signup/route.ts serves it on Next.js.
  app.post('/api/signup', express.json({ strict: false }), async (req, res) => {
    const result = await signUp(forum, req.body)
    if (!result.ok) {
      res.status(result.status).json({ error: result.error, message: result.message })
      return
    }
    const { user, did, handle } = result
    res.status(201).json({ userId: user.id, username: user.username, did, handle })
  })
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
    dataDir,
    async stop() {
      await ws.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await atproto.close()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
