/**
 * One app process of a multi-process deployment (multi-process.test.ts): a PDS over a shared PostgreSQL
 * database or SQLite file, served by a plain Node HTTP + WebSocket server on loopback. Every process gets
 * the same secrets and service DID, as replicas behind one hostname would. Env: PROVIDER (`postgresql`,
 * default, or `sqlite`), DATABASE_URL, PORT, JWT_SECRET, PLC_ROTATION_KEY (hex), SERVICE_DID, LISTEN
 * (`0` turns PostgreSQL LISTEN/NOTIFY off: poll only).
 * Run: node --import tsx pds-process.ts
 */
import { once } from 'node:events'
import { createServer } from 'node:http'
import { MemoryBlobStore, prismaAdapter } from '@next-atproto/adapters'
import { AccountSigningKey, type Atproto, createAtproto, pds, plcService } from '@next-atproto/core'
import { createNodeWebSocket, toNodeHandler } from '@next-atproto/core/node'
import { postgresClient, sqliteClient } from '../../../packages/adapters/test/clients.js'

const env = (name: string) => {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is required`)
  return value
}
const port = Number(env('PORT'))
const publicUrl = `http://127.0.0.1:${port}`
const storage =
  process.env.PROVIDER === 'sqlite'
    ? prismaAdapter(sqliteClient(env('DATABASE_URL')), { provider: 'sqlite' })
    : prismaAdapter(postgresClient(env('DATABASE_URL')), {
        provider: 'postgresql',
        ...(process.env.LISTEN === '0' ? { listen: false as const } : {}),
      })
const app: Atproto = createAtproto({
  publicUrl,
  services: [
    plcService({ store: storage.plc! }), // the directory's state is in the shared database too
    pds({
      storage,
      blobstore: new MemoryBlobStore(),
      jwtSecret: env('JWT_SECRET'),
      serviceDid: env('SERVICE_DID'),
      handleDomains: ['.test'],
      plcUrl: `${publicUrl}/plc`,
      plcRotationKey: AccountSigningKey.fromBytes(Buffer.from(env('PLC_ROTATION_KEY'), 'hex')),
      rateLimits: false,
      fetch: (input, init) => app.fetch(new Request(input, init)),
    }),
  ],
})
const server = createServer(toNodeHandler(app))
const ws = createNodeWebSocket(app)
ws.injectWebSocket(server)
server.listen(port, '127.0.0.1')
await once(server, 'listening')
await app.start()
process.stdout.write(`ready on ${publicUrl} \n`)

process.once('SIGTERM', async () => {
  await ws.close()
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  await app.close()
  await storage.close()
  process.exit(0)
})
