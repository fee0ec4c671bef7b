/**
 * A PDS process for crawlers.test.ts: SQLite storage (its change watcher on), maintenance jobs every
 * 50 ms and requestCrawl to a live and a dead relay; it writes, uploads, lets the jobs run, closes, and
 * must then exit by itself (no process.exit): a timer, socket or promise left behind keeps it alive.
 * Runs the built packages, as an app would. Usage: node --import tsx test-close-app.ts <relay url>
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AtpAgent } from '@atproto/api'
import { MemoryBlobStore, prismaAdapter } from '@next-atproto/adapters'
import { AccountSigningKey, type Atproto, createAtproto, pds, plcService } from '@next-atproto/core'
import { sqliteClient } from '../../../adapters/test/clients.js'

process.on('unhandledRejection', (err) => {
  console.error('unhandled rejection', err)
  process.exitCode = 3
})

const dir = mkdtempSync(join(tmpdir(), 'atproto-close-'))
const storage = prismaAdapter(sqliteClient(`file:${join(dir, 'close.db')}`), { provider: 'sqlite' })
await storage.migrate()
const publicUrl = 'http://pds.close.test'
const app: Atproto = createAtproto({
  publicUrl,
  services: [
    plcService({ store: storage.plc! }),
    pds({
      storage,
      blobstore: new MemoryBlobStore(),
      jwtSecret: 'x'.repeat(32),
      handleDomains: ['.test'],
      plcUrl: `${publicUrl}/plc`,
      plcRotationKey: AccountSigningKey.generate(),
      jobs: { intervalMs: 50, tempBlobTtlMs: 10, blobGraceMs: 10 },
      crawlers: [process.argv[2]!, 'http://127.0.0.1:9'],
      crawlIntervalMs: 0,
      fetch: (input, init) => app.fetch(new Request(input as string, init)),
    }),
  ],
})
await app.start()
const agent = new AtpAgent({
  service: publicUrl,
  fetch: (input, init) => app.fetch(new Request(input as string, init)),
})
const { data } = await agent.createAccount({ handle: 'closing.test', password: 'password-1' })
await agent.uploadBlob(new TextEncoder().encode('never used'), { encoding: 'application/octet-stream' })
await agent.com.atproto.repo.createRecord({
  repo: data.did,
  collection: 'app.bsky.feed.post',
  record: { $type: 'app.bsky.feed.post', text: 'bye', createdAt: new Date().toISOString() },
})
await new Promise((r) => setTimeout(r, 300)) // several job runs
await app.close()
await storage.close()
rmSync(dir, { recursive: true, force: true })
console.log('closed')
