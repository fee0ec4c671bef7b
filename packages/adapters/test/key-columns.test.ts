/**
 * Apps whose own Prisma migrations create the atproto tables (`migrations: 'app'`) get Prisma's defaults:
 * case-insensitive VARCHAR(191) on MySQL, the database collation on PostgreSQL. Start-up must refuse
 * such tables with the fix, and accept them once the shipped binary-keys SQL (the CLI prints it) ran.
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { StorageNotMigratedError } from '@next-atproto/core'
import { afterAll, describe, expect, it } from 'vitest'
import { prismaAdapter } from '../src/prisma/index.js'
import { migrationNames, migrationsDir, statements } from '../src/prisma/migrate.js'
import { mysqlClient, postgresClient } from './clients.js'
import {
  createMysqlDatabase,
  createPostgresDatabase,
  mysqlAvailable,
  postgresAvailable,
  type TestDatabase,
} from './databases.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const cli = path.resolve(here, '../bin/next-atproto-prisma.mjs')
const run = promisify(execFile)

type Provider = 'mysql' | 'postgresql'
const cases: Array<{ provider: Provider; available: boolean; create: () => Promise<TestDatabase> }> = [
  { provider: 'postgresql', available: await postgresAvailable(), create: createPostgresDatabase },
  { provider: 'mysql', available: await mysqlAvailable(), create: createMysqlDatabase },
]

const dbs: TestDatabase[] = []
afterAll(async () => {
  for (const db of dbs) await db.drop()
})

for (const { provider, available, create } of cases) {
  describe.runIf(available)(`key columns on ${provider} (app-owned migrations)`, () => {
    it('refuses Prisma-default key columns at start-up, naming the fix, and accepts them once fixed', async () => {
      const db = await create()
      dbs.push(db)
      const client: any = provider === 'mysql' ? mysqlClient(db.url) : postgresClient(db.url)
      try {
        // What the app's own `prisma migrate dev` creates: the tables as Prisma's defaults make them.
        for (const name of migrationNames(provider).filter((n) => !n.endsWith('_binary_keys'))) {
          const sql = readFileSync(`${migrationsDir(provider)}/${name}/migration.sql`, 'utf8')
          for (const s of statements(sql)) await client.$executeRawUnsafe(s)
        }
        const adapter = prismaAdapter(client, { provider, migrations: 'app' })
        const err = await adapter.check().then(
          () => null,
          (e) => e,
        )
        expect(err).toBeInstanceOf(StorageNotMigratedError)
        expect(err.message).toMatch(/atproto_record\.rkey/)
        expect(err.message).toContain(`next-atproto-prisma sql binary-keys --provider ${provider}`)

        // The app adds the printed SQL as a migration of its own.
        const { stdout } = await run(process.execPath, [cli, 'sql', 'binary-keys', '--provider', provider])
        expect(stdout).toMatch(/ALTER TABLE/)
        for (const s of statements(stdout)) await client.$executeRawUnsafe(s)
        await expect(adapter.check()).resolves.toBeUndefined()
      } finally {
        await client.$disconnect()
      }
    })
  })
}
