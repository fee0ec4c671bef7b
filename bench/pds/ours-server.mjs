// Child process of bench/pds.mjs: our PDS (SQLite through the Prisma adapter, disk blobs, a local PLC
// directory under /plc) on plain node:http. argv: <port> <dataDir>. Prints "ready <url>" when it serves.
// Run with `node --import tsx` (the Prisma client is generated as TypeScript).
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { DiskBlobStore, prismaAdapter } from '../../packages/adapters/dist/index.js'
import { PrismaClient } from '../../packages/adapters/test/prisma/sqlite/generated/client.ts'
import { AccountSigningKey, createAtproto, pds, plcService } from '../../packages/core/dist/index.js'
import { createNodeWebSocket, toNodeHandler } from '../../packages/core/dist/node/index.js'

const [port, dataDir] = process.argv.slice(2)
fs.mkdirSync(dataDir, { recursive: true })
const publicUrl = `http://localhost:${port}`
const prisma = new PrismaClient({
  adapter: new PrismaBetterSqlite3({ url: `file:${path.join(dataDir, 'pds.db')}` }),
})
// WAL, as the reference runs its SQLite files.
const storage = prismaAdapter(prisma, { provider: 'sqlite', sqliteWal: true })
await storage.migrate()
const app = createAtproto({
  publicUrl,
  services: [
    plcService({ store: storage.plc }),
    pds({
      storage,
      blobstore: new DiskBlobStore({ location: path.join(dataDir, 'blobs') }),
      jwtSecret: 'bench-jwt-secret',
      handleDomains: ['.test'],
      plcUrl: `${publicUrl}/plc`,
      plcRotationKey: AccountSigningKey.generate(),
      // The reference runs with its rate limits off in this benchmark: so do we.
      rateLimits: false,
      fetch: (input, init) => {
        const request = new Request(input, init)
        return request.url.startsWith(publicUrl) ? app.fetch(request) : fetch(request)
      },
    }),
  ],
})
const server = http.createServer(toNodeHandler(app))
createNodeWebSocket(app).injectWebSocket(server)
await new Promise((resolve) => server.listen(Number(port), '127.0.0.1', resolve))
await app.start()
console.log(`ready ${publicUrl}`)
process.on('SIGTERM', async () => {
  server.closeAllConnections()
  server.close()
  await app.close().catch(() => {})
  process.exit(0)
})
