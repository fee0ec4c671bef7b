/**
 * Cross-process serialization of the Prisma adapter. Two adapters over two clients (two connection
 * pools, as two processes or two module instances of one Next.js server have) write the same database:
 * - per-DID: concurrent commits to one repo never lose an update (each commit reads the root and writes
 *   the next one, so a lost update breaks the chain);
 * - first commits of many new repos at once all succeed (no deadlocks on locks of rows that do not exist);
 * - the firehose has no gaps and follows commit order.
 */

import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { CID, decodeCbor, type StorageAdapter } from '@next-atproto/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { prismaAdapter } from '../src/prisma/index.js'
import { mysqlClient, postgresClient, sqliteClient } from './clients.js'
import {
  createMysqlDatabase,
  createPostgresDatabase,
  mysqlAvailable,
  postgresAvailable,
  type TestDatabase,
} from './databases.js'
import { chainCommit } from './fixtures/chain-commit.js'

const commit = chainCommit

function lockingSuite(
  name: string,
  open: () => Promise<{ a: StorageAdapter; b: StorageAdapter; done(): Promise<void> }>,
) {
  describe(name, () => {
    let a: StorageAdapter
    let b: StorageAdapter
    let done: () => Promise<void>
    beforeAll(async () => {
      ;({ a, b, done } = await open())
    }, 60_000)
    afterAll(() => done?.())

    it('serializes one repo across two clients: no lost update', async () => {
      const did = 'did:plc:lockingsameDID000000000'
      const per = 12
      await Promise.all([
        (async () => {
          for (let i = 0; i < per; i++) await commit(a, did, 'a')
        })(),
        (async () => {
          for (let i = 0; i < per; i++) await commit(b, did, 'b')
        })(),
      ])
      const root = await a.repo.read(did, (r) => r.getRoot())
      expect(root?.rev).toBe(`r${String(2 * per).padStart(6, '0')}`)
      // Walk the chain back from the root: every commit saw its predecessor.
      let cid: CID | null = root!.cid
      let seen = 0
      while (cid) {
        const { blocks } = await a.repo.read(did, (r) => r.getBlocks([cid!]))
        const node = decodeCbor(blocks.get(cid)!) as { prev: string | null }
        cid = node.prev ? CID.parse(node.prev) : null
        seen++
      }
      expect(seen).toBe(2 * per)
    }, 60_000)

    it('first commits of many new repos at once all succeed', async () => {
      const dids = Array.from({ length: 16 }, (_, i) => `did:plc:lockingnew${String(i).padStart(14, '0')}`)
      const results = await Promise.allSettled(dids.map((did, i) => commit(i % 2 ? a : b, did, 'x')))
      expect(
        results
          .filter((r) => r.status === 'rejected')
          .map((r) => String((r as PromiseRejectedResult).reason)),
      ).toEqual([])
    }, 60_000)

    it('the firehose is dense and in commit order', async () => {
      const rows = await a.sequencer.range({ limit: 1000 })
      const seqs = rows.map((r) => r.seq)
      expect(seqs.length).toBe(24 + 16)
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i))
      // Within one repo, events follow the root chain.
      const same = rows.filter((r) => r.did === 'did:plc:lockingsameDID000000000')
      expect(same.map((r) => (decodeCbor(r.body) as { n: number }).n)).toEqual(same.map((_, i) => i + 1))
    })
  })
}

const dir = mkdtempSync(join(tmpdir(), 'atproto-locking-'))
lockingSuite('prisma sqlite: two clients on one file', async () => {
  const url = `file:${join(dir, 'l.db')}`
  const a = prismaAdapter(sqliteClient(url), { provider: 'sqlite' })
  await a.migrate()
  const b = prismaAdapter(sqliteClient(url), { provider: 'sqlite' })
  return {
    a,
    b,
    async done() {
      await Promise.all([a.close(), b.close()])
      rmSync(dir, { recursive: true, force: true })
    },
  }
})

function serverSuite(
  name: string,
  createDb: () => Promise<TestDatabase>,
  client: (url: string) => unknown,
  provider: 'postgresql' | 'mysql',
) {
  lockingSuite(name, async () => {
    const db = await createDb()
    const a = prismaAdapter(client(db.url), { provider })
    await a.migrate()
    const b = prismaAdapter(client(db.url), { provider })
    return {
      a,
      b,
      async done() {
        await Promise.all([a.close(), b.close()])
        await db.drop()
      },
    }
  })
}
if (await postgresAvailable())
  serverSuite('prisma postgresql: two clients', createPostgresDatabase, postgresClient, 'postgresql')
if (await mysqlAvailable())
  serverSuite('prisma mysql: two clients', createMysqlDatabase, mysqlClient, 'mysql')

describe('prisma sqlite: two processes on one file', () => {
  it('serializes commits of one repo across processes (write-first transactions wait, no SQLITE_BUSY)', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'atproto-xproc-'))
    const url = `file:${join(tmp, 'x.db')}`
    const did = 'did:plc:crossprocess000000000000'
    const storage = prismaAdapter(sqliteClient(url), { provider: 'sqlite' })
    try {
      await storage.migrate()
      const per = 20
      let childDone = false
      const child = promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', join(import.meta.dirname, 'fixtures/sqlite-writer.ts'), url, did, String(per)],
        { cwd: join(import.meta.dirname, '..') },
      ).finally(() => {
        childDone = true
      })
      // The parent keeps committing for as long as the child runs, so the two really contend. Paced:
      // a commit takes a fraction of a millisecond, and the child needs a second or more to start.
      let mine = 0
      while (!childDone) {
        await commit(storage, did, 'parent')
        mine++
        await new Promise((r) => setTimeout(r, 2))
      }
      await child
      const total = mine + per
      const root = await storage.repo.read(did, (r) => r.getRoot())
      expect(root?.rev).toBe(`r${String(total).padStart(6, '0')}`)
      const events = await storage.sequencer.range({ limit: 100_000 })
      const bodies = events.map((e) => decodeCbor(e.body) as { n: number; writer: string })
      expect(bodies.map((b) => b.n)).toEqual(Array.from({ length: total }, (_, i) => i + 1))
      // Interleaved: some child commit landed between two parent commits.
      const writers = bodies.map((b) => b.writer).join(',')
      expect(writers).toMatch(/parent,child.*parent/)
    } finally {
      await storage.close()
      rmSync(tmp, { recursive: true, force: true })
    }
  }, 120_000)
})
