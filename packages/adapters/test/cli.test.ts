/**
 * The `next-atproto-prisma` CLI: fragment selection and printing, and `migrate --url` applying the shipped
 * migrations on real SQLite, PostgreSQL and MySQL databases (idempotently, recorded in _prisma_migrations).
 * `sync`/`check` against a host app are covered by host-app.test.ts. `migrate` runs the built helper
 * (dist/), as an installed package would; the suite builds it first.
 */
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import Database from 'better-sqlite3'
import mariadb from 'mariadb'
import pg from 'pg'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  createMysqlDatabase,
  createPostgresDatabase,
  mysqlAvailable,
  postgresAvailable,
} from './databases.js'

const run = promisify(execFile)
const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '../../..')
const cli = (...args: string[]) =>
  run(process.execPath, [path.resolve(here, '../bin/next-atproto-prisma.mjs'), ...args])
const fails = (...args: string[]) =>
  cli(...args).then(
    () => null,
    (e: { code: number; stderr: string }) => e,
  )
const migrationCount = (provider: string) =>
  fs
    .readdirSync(path.resolve(here, `../prisma/migrations/${provider}`), { withFileTypes: true })
    .filter((d) => d.isDirectory()).length

beforeAll(async () => {
  // dist/prisma/migrate.js is what the CLI imports. Type errors elsewhere (reported by the build's own
  // check) must not hide this suite's result, so only a missing output fails here.
  await run(
    process.execPath,
    [path.join(root, 'node_modules/typescript/bin/tsc'), '-b', 'packages/core', 'packages/adapters'],
    {
      cwd: root,
    },
  ).catch(() => {})
  expect(fs.existsSync(path.resolve(here, '../dist/prisma/migrate.js'))).toBe(true)
}, 120_000)

describe('next-atproto-prisma', () => {
  it('prints every model for single-file schemas, without generator or datasource', async () => {
    const { stdout } = await cli('print')
    for (const model of [
      'AtprotoAccount',
      'AtprotoRepoBlock',
      'AtprotoSeqEvent',
      'AtprotoBlob',
      'AtprotoRateLimit',
    ]) {
      expect(stdout).toContain(`model ${model} {`)
    }
    expect(stdout).not.toMatch(/^\s*(generator|datasource)\s/m)
  })

  it('rejects unknown services and commands with usage', async () => {
    expect((await fails('sync', '--only', 'pds,bogus'))?.stderr).toMatch(
      /unknown service or fragment "bogus"/,
    )
    expect((await fails('frobnicate'))?.stderr).toMatch(/usage: next-atproto-prisma/)
    expect((await fails('migrate'))?.stderr).toMatch(/needs --url or DATABASE_URL/)
  })

  it('migrate applies the SQLite migrations once', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atproto-cli-'))
    const url = `file:${path.join(dir, 'a.db')}`
    try {
      expect((await cli('migrate', '--url', url)).stdout).toMatch(/^applied /)
      expect((await cli('migrate', '--url', url)).stdout).toMatch(/no pending migrations/)
      const db = new Database(path.join(dir, 'a.db'))
      const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as {
        name: string
      }[]
      expect(tables.map((t) => t.name)).toEqual(
        expect.arrayContaining(['atproto_repo_block', 'atproto_seq_event']),
      )
      const rows = db.prepare('SELECT * FROM _prisma_migrations WHERE finished_at IS NOT NULL').all()
      expect(rows).toHaveLength(migrationCount('sqlite'))
      db.close()
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('migrate names an unreachable database', async () => {
    const err = await fails('migrate', '--url', 'postgresql://postgres@127.0.0.1:1/nothing')
    expect(err?.code).toBe(1)
    expect(err?.stderr).toMatch(/ECONNREFUSED/)
  })
})

describe.runIf(await postgresAvailable())('next-atproto-prisma migrate on PostgreSQL', () => {
  it('applies the PostgreSQL migrations once', async () => {
    const db = await createPostgresDatabase()
    try {
      expect((await cli('migrate', '--url', db.url)).stdout).toMatch(/^applied /)
      expect((await cli('migrate', '--url', db.url)).stdout).toMatch(/no pending migrations/)
      const c = new pg.Client({ connectionString: db.url })
      await c.connect()
      const { rows } = await c.query(
        'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL',
      )
      expect(rows).toHaveLength(migrationCount('postgresql'))
      expect((await c.query(`SELECT to_regclass('atproto_seq_event') AS t`)).rows[0].t).toBe(
        'atproto_seq_event',
      )
      await c.end()
    } finally {
      await db.drop()
    }
  })
})

describe.runIf(await mysqlAvailable())('next-atproto-prisma migrate on MySQL', () => {
  it('applies the hand-written MySQL migrations once', async () => {
    const db = await createMysqlDatabase()
    try {
      expect((await cli('migrate', '--url', db.url)).stdout).toMatch(/^applied /)
      expect((await cli('migrate', '--url', db.url)).stdout).toMatch(/no pending migrations/)
      const u = new URL(db.url)
      const c = await mariadb.createConnection({
        host: u.hostname,
        port: Number(u.port),
        user: 'root',
        database: u.pathname.slice(1),
      })
      const rows = await c.query(
        'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL',
      )
      expect(rows).toHaveLength(migrationCount('mysql'))
      expect(await c.query(`SHOW TABLES LIKE 'atproto_seq_event'`)).toHaveLength(1)
      await c.end()
    } finally {
      await db.drop()
    }
  })
})
