/**
 * The shipped migrations cannot drift from the schema fragments unseen:
 * - SQLite and PostgreSQL: the stock Prisma CLI (through the schema-engine shim) replays the migrations
 *   and diffs them against the schema (`migrate diff --from-migrations --to-schema --exit-code`).
 * - MySQL has no schema engine here, so its hand-written DDL is compared with PostgreSQL's after both are
 *   applied: same tables, columns, nullability, type family, defaults and indexes. PostgreSQL equals the
 *   schema (above), so MySQL does too. The storage suite also runs the generated client on MySQL.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import mariadb from 'mariadb'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import {
  createMysqlDatabase,
  createPostgresDatabase,
  mysqlAvailable,
  postgresAvailable,
} from './databases.js'

const run = promisify(execFile)
const here = path.dirname(fileURLToPath(import.meta.url))
const pkg = path.resolve(here, '..')
const prismaCli = path.resolve(pkg, '../../node_modules/prisma/build/index.js')
const scratch = path.join(here, 'generated', `drift-${randomBytes(4).toString('hex')}`)

/** Exit code of `prisma migrate diff --exit-code`: 0 no difference, 2 difference, 1 error. */
async function diffExitCode(provider: string, schemaDir: string, databaseUrl?: string): Promise<number> {
  const args = [prismaCli, 'migrate', 'diff', '--config', 'prisma.config.ts', '--exit-code']
  args.push('--from-migrations', `prisma/migrations/${provider}`, '--to-schema', schemaDir)
  const env = {
    ...process.env,
    PRISMA_PROVIDER: provider,
    CHECKPOINT_DISABLE: '1',
    DATABASE_URL: databaseUrl,
  }
  try {
    await run(process.execPath, args, { cwd: pkg, env })
    return 0
  } catch (e) {
    const err = e as { code: number; stderr: string }
    if (err.code === 1) throw new Error(`prisma migrate diff failed: ${err.stderr}`)
    return err.code
  }
}

afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }))

describe('SQLite migrations', () => {
  it('replay to exactly the schema', async () => {
    expect(await diffExitCode('sqlite', 'test/prisma/sqlite')).toBe(0)
  }, 60_000)

  it('a schema change without a migration is caught', async () => {
    // Negative control: the same schema plus one column must differ from the migrations.
    const dir = path.join(scratch, 'sqlite')
    fs.cpSync(path.join(here, 'prisma/sqlite'), dir, {
      recursive: true,
      filter: (f) => !f.includes('generated'),
    })
    const file = path.join(dir, 'atproto-ratelimit.prisma')
    fs.writeFileSync(
      file,
      fs.readFileSync(file, 'utf8').replace('resetAt DateTime', 'resetAt DateTime\n  extra Int?'),
    )
    expect(await diffExitCode('sqlite', dir)).toBe(2)
  }, 60_000)
})

describe.runIf(await postgresAvailable())('PostgreSQL migrations', () => {
  it('replay to exactly the schema (shadow database through the shim)', async () => {
    const db = await createPostgresDatabase()
    try {
      expect(await diffExitCode('postgresql', 'test/prisma/postgresql', db.url)).toBe(0)
    } finally {
      await db.drop()
    }
  }, 60_000)
})

// --- MySQL DDL vs PostgreSQL DDL -------------------------------------------------------------------

interface Catalog {
  columns: string[]
  indexes: string[]
}

const TYPE: Record<string, string> = {
  text: 'string',
  varchar: 'string',
  bytea: 'bytes',
  longblob: 'bytes',
  'timestamp without time zone': 'datetime',
  datetime: 'datetime',
  integer: 'int',
  int: 'int',
  bigint: 'bigint',
  boolean: 'bool',
  tinyint: 'bool',
  jsonb: 'json',
  json: 'json',
  longtext: 'json', // MariaDB's JSON is LONGTEXT with a json_valid check
}

function normDefault(value: string | null, extra = ''): string {
  if (/auto_increment/i.test(extra) || /^nextval\(/.test(value ?? '')) return 'autoincrement'
  if (value === null || /^null$/i.test(value)) return '-'
  if (/current_timestamp/i.test(value)) return 'now'
  if (value === 'false' || value === '0') return 'false'
  if (value === 'true' || value === '1') return 'true'
  return value.replace(/::\w+( \w+)*$/, '').replace(/^'(.*)'$/, '$1')
}

async function postgresCatalog(url: string): Promise<Catalog> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    const cols = await c.query(
      `SELECT table_name, column_name, is_nullable, data_type, column_default FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name LIKE 'atproto%'`,
    )
    const idx = await c.query(
      `SELECT t.relname AS table_name, ix.indisunique AS is_unique,
              array_to_string(array(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY k(attnum, n)
                JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.n), ',') AS cols
       FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_namespace ns ON ns.oid = t.relnamespace
       WHERE ns.nspname = 'public' AND t.relname LIKE 'atproto%'`,
    )
    return {
      columns: cols.rows
        .map(
          (r) =>
            `${r.table_name}.${r.column_name} ${TYPE[r.data_type] ?? r.data_type} ${r.is_nullable === 'YES' ? 'null' : 'not-null'} default=${normDefault(r.column_default)}`,
        )
        .sort(),
      indexes: idx.rows.map((r) => `${r.table_name}(${r.cols})${r.is_unique ? ' unique' : ''}`).sort(),
    }
  } finally {
    await c.end()
  }
}

async function mysqlCatalog(url: string): Promise<Catalog> {
  const u = new URL(url)
  const database = u.pathname.slice(1)
  const c = await mariadb.createConnection({
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username) || 'root',
    password: decodeURIComponent(u.password),
    database,
  })
  try {
    const cols = await c.query(
      `SELECT TABLE_NAME t, COLUMN_NAME c, IS_NULLABLE n, DATA_TYPE d, COLUMN_DEFAULT def, EXTRA x
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE 'atproto%'`,
      [database],
    )
    const idx = await c.query(
      `SELECT TABLE_NAME t, INDEX_NAME i, NON_UNIQUE nu, GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) cols
       FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME LIKE 'atproto%'
       GROUP BY TABLE_NAME, INDEX_NAME, NON_UNIQUE`,
      [database],
    )
    return {
      columns: cols
        .map(
          (r: Record<string, string>) =>
            `${r.t}.${r.c} ${TYPE[r.d!] ?? r.d} ${r.n === 'YES' ? 'null' : 'not-null'} default=${normDefault(r.def ?? null, r.x)}`,
        )
        .sort(),
      indexes: idx
        .map((r: Record<string, unknown>) => `${r.t}(${r.cols})${Number(r.nu) === 0 ? ' unique' : ''}`)
        .sort(),
    }
  } finally {
    await c.end()
  }
}

describe.runIf((await postgresAvailable()) && (await mysqlAvailable()))('MySQL migrations', () => {
  it('create the same tables, columns, defaults and indexes as the PostgreSQL ones', async () => {
    const cli = path.join(pkg, 'bin/next-atproto-prisma.mjs')
    const [p, m] = await Promise.all([createPostgresDatabase(), createMysqlDatabase()])
    try {
      // Apply both through the same code path (the CLI's driver-backed migrate, from dist/).
      await run(
        process.execPath,
        [path.resolve(pkg, '../../node_modules/typescript/bin/tsc'), '-b', 'packages/adapters'],
        {
          cwd: path.resolve(pkg, '../..'),
        },
      ).catch(() => {})
      await run(process.execPath, [cli, 'migrate', '--url', p.url])
      await run(process.execPath, [cli, 'migrate', '--url', m.url])
      const [pc, mc] = await Promise.all([postgresCatalog(p.url), mysqlCatalog(m.url)])
      expect(pc.columns.length).toBeGreaterThan(50)
      expect(mc.columns).toEqual(pc.columns)
      expect(mc.indexes).toEqual(pc.indexes)

      // The MySQL flavour of the fragments names exactly the widened columns, at their lengths, so an
      // app whose own `prisma migrate` owns the tables sees no drift against our DDL.
      const u = new URL(m.url)
      const c = await mariadb.createConnection({
        host: u.hostname,
        port: Number(u.port || 3306),
        user: decodeURIComponent(u.username) || 'root',
        password: decodeURIComponent(u.password),
        database: u.pathname.slice(1),
      })
      const widened = (
        await c.query(
          `SELECT TABLE_NAME t, COLUMN_NAME c, CHARACTER_MAXIMUM_LENGTH n FROM information_schema.columns
           WHERE table_schema = DATABASE() AND table_name LIKE 'atproto%' AND DATA_TYPE = 'varchar'
             AND CHARACTER_MAXIMUM_LENGTH <> 191`,
        )
      ).map((r: { t: string; c: string; n: number | bigint }) => [`${r.t}.${r.c}`, Number(r.n)])
      await c.end()
      const { MYSQL_VARCHAR, mysqlFlavour, allFragments } = await import('../scripts/schema.mjs')
      expect(Object.fromEntries(widened.sort())).toEqual(
        Object.fromEntries(Object.entries(MYSQL_VARCHAR as Record<string, number>).sort()),
      )
      const annotated = allFragments()
        .map((n: string) => mysqlFlavour(fs.readFileSync(path.join(pkg, 'prisma', `${n}.prisma`), 'utf8')))
        .join('\n')
        .match(/@db\.VarChar\(\d+\)/g)
      expect(annotated?.length).toBe(widened.length)
    } finally {
      await Promise.all([p.drop(), m.drop()])
    }
  }, 120_000)
})
