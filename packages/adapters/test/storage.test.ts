import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'
import { memoryAdapter, prismaAdapter } from '../src/index.js'
import { runStorageConformance } from '../src/testing/conformance.js'
import { mysqlClient, postgresClient, sqliteClient } from './clients.js'
import {
  createMysqlDatabase,
  createPostgresDatabase,
  mysqlAvailable,
  postgresAvailable,
  type TestDatabase,
} from './databases.js'

runStorageConformance({ name: 'memory', create: async () => memoryAdapter() })

// SQLite three ways: the default (commits and the log on direct connections, multi-statement reads on
// Prisma in rollback-journal mode), WAL (every repo read direct too), and Prisma only.
const dir = mkdtempSync(join(tmpdir(), 'atproto-sqlite-'))
for (const [name, file, extra] of [
  ['prisma sqlite', 'test.db', {}],
  ['prisma sqlite, WAL', 'wal.db', { sqliteWal: true }],
  ['prisma sqlite, Prisma only', 'plain.db', { sqliteDirect: false }],
] as const) {
  runStorageConformance({
    name,
    async create() {
      const adapter = prismaAdapter(sqliteClient(`file:${join(dir, file)}`), { provider: 'sqlite', ...extra })
      await adapter.migrate()
      return adapter
    },
  })
}
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const databases: TestDatabase[] = []
if (await postgresAvailable()) {
  runStorageConformance({
    name: 'prisma postgresql',
    async create() {
      const db = await createPostgresDatabase()
      databases.push(db)
      const adapter = prismaAdapter(postgresClient(db.url), { provider: 'postgresql' })
      await adapter.migrate()
      return adapter
    },
    async cleanup(adapter) {
      await adapter.close()
      await databases.find((d) => d.url.includes('5432'))?.drop()
    },
  })
}
if (await mysqlAvailable()) {
  runStorageConformance({
    name: 'prisma mysql',
    async create() {
      const db = await createMysqlDatabase()
      databases.push(db)
      const adapter = prismaAdapter(mysqlClient(db.url), { provider: 'mysql' })
      await adapter.migrate()
      return adapter
    },
    async cleanup(adapter) {
      await adapter.close()
      await databases.find((d) => d.url.startsWith('mysql'))?.drop()
    },
  })
}
