/**
 * Paged block export of the Prisma adapter (streaming `getRepo`) on SQLite, PostgreSQL and MySQL: pages
 * cross from blocks stored without a rev (full exports only) to rev-ordered ones, never repeat or skip a
 * block, and a `since` export holds only later commits.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BlockMap, cidForBytes, encodeCbor, exportRepoBlocks, type StorageAdapter } from '@next-atproto/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { prismaAdapter } from '../src/prisma/index.js'
import { mysqlClient, postgresClient, sqliteClient } from './clients.js'
import {
  createMysqlDatabase,
  createPostgresDatabase,
  mysqlAvailable,
  postgresAvailable,
} from './databases.js'

const blocks = (tag: string, n: number) => {
  const map = new BlockMap()
  for (let i = 0; i < n; i++) {
    const bytes = encodeCbor({ tag, i })
    map.set(cidForBytes(bytes), bytes)
  }
  return map
}
const keys = (m: BlockMap) => m.cids().map(String)

function exportSuite(name: string, open: () => Promise<{ storage: StorageAdapter; done(): Promise<void> }>) {
  describe(name, () => {
    let storage: StorageAdapter
    let done: () => Promise<void>
    beforeAll(async () => {
      ;({ storage, done } = await open())
    }, 60_000)
    afterAll(() => done?.())

    it('pages through rev-less and rev-ordered blocks without repeats or gaps', async () => {
      const did = 'did:plc:exportpaging0000000000'
      const loose = blocks('loose', 3)
      const r1 = blocks('r1', 4)
      const r2 = blocks('r2', 3)
      await storage.repo.transact(did, async (tx) => {
        await tx.putBlocks(loose)
        await tx.putBlocks(r1, '3laaaaaaaaaa2')
      })
      await storage.repo.transact(did, (tx) => tx.putBlocks(r2, '3laaaaaaaaab2'))
      // Another repo's blocks never leak in.
      await storage.repo.transact('did:plc:exportother000000000', (tx) =>
        tx.putBlocks(blocks('x', 3), '3laaaaaaaaab2'),
      )

      for (const pageSize of [1, 2, 3, 5, 100]) {
        const pages = await storage.repo.read(did, async (r) => {
          const out: string[][] = []
          for await (const page of exportRepoBlocks(r, { pageSize })) out.push(keys(page))
          return out
        })
        const flat = pages.flat()
        expect(new Set(flat).size).toBe(flat.length)
        expect(flat.sort()).toEqual([...keys(loose), ...keys(r1), ...keys(r2)].sort())
        expect(pages.every((p) => p.length <= pageSize)).toBe(true)
      }
      const since = await storage.repo.read(did, async (r) => {
        const out: string[] = []
        for await (const page of exportRepoBlocks(r, { since: '3laaaaaaaaaa2', pageSize: 2 }))
          out.push(...keys(page))
        return out
      })
      expect(since.sort()).toEqual(keys(r2).sort())
    })
  })
}

const dir = mkdtempSync(join(tmpdir(), 'atproto-export-'))
exportSuite('prisma sqlite: paged export', async () => {
  const storage = prismaAdapter(sqliteClient(`file:${join(dir, 'e.db')}`), { provider: 'sqlite' })
  await storage.migrate()
  return {
    storage,
    async done() {
      await storage.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
})
if (await postgresAvailable()) {
  exportSuite('prisma postgresql: paged export', async () => {
    const db = await createPostgresDatabase()
    const storage = prismaAdapter(postgresClient(db.url), { provider: 'postgresql' })
    await storage.migrate()
    return {
      storage,
      async done() {
        await storage.close()
        await db.drop()
      },
    }
  })
}
if (await mysqlAvailable()) {
  exportSuite('prisma mysql: paged export', async () => {
    const db = await createMysqlDatabase()
    const storage = prismaAdapter(mysqlClient(db.url), { provider: 'mysql' })
    await storage.migrate()
    return {
      storage,
      async done() {
        await storage.close()
        await db.drop()
      },
    }
  })
}
