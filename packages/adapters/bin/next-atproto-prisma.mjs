#!/usr/bin/env node
// next-atproto-prisma: put the next-atproto tables into your Prisma schema without touching your own files.
//
//   next-atproto-prisma sync  [--dir prisma/atproto] [--only pds,oauth]   copy the model fragments
//   next-atproto-prisma check [--dir prisma/atproto] [--only pds,oauth]   exit 1 when the copies drifted
//   next-atproto-prisma print [--only pds,oauth]                          fragments for a single-file schema
//   next-atproto-prisma migrate [--url URL]                               apply the shipped migrations to a
//                                                                         database the adapter owns (URL from
//                                                                         DATABASE_URL; file:, postgresql://, mysql://)
//   next-atproto-prisma sql binary-keys --provider mysql|postgresql        the key-column fix as SQL, for apps
//                                                                         whose own Prisma migrations create
//                                                                         the atproto tables
//
// sync/check/print take --provider (default: the datasource of the schema beside --dir); for mysql the
// copies carry the column lengths of our MySQL migrations (@db.VarChar), so `prisma migrate` sees no drift.
// sync relies on Prisma's multi-file schema: point `schema` in prisma.config.ts at the folder (e.g.
// "prisma/") and the copies under prisma/atproto/ join your models. It never edits schema.prisma.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { checkFragments, GROUPS, printFragments, syncFragments } from '../scripts/schema.mjs'

const USAGE = `usage: next-atproto-prisma <sync|check|print|migrate|sql binary-keys> [--dir prisma/atproto] [--only ${Object.keys(GROUPS).join(',')}] [--url URL] [--provider mysql|postgresql]`

function fail(message) {
  process.stderr.write(`next-atproto-prisma: ${message}\n`)
  process.exit(1)
}

let parsed
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      dir: { type: 'string', default: 'prisma/atproto' },
      only: { type: 'string' },
      url: { type: 'string' },
      provider: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
} catch (e) {
  fail(`${e.message}\n${USAGE}`)
}
const { values, positionals } = parsed
const [command] = positionals
if (values.help || !command) {
  console.log(USAGE)
  process.exit(values.help ? 0 : 1)
}
const only = values.only
  ?.split(',')
  .map((s) => s.trim())
  .filter(Boolean)
const dir = path.resolve(values.dir)

try {
  if (command === 'sync') {
    const changed = syncFragments(dir, only, values.provider)
    console.log(
      changed.length
        ? `${changed.join('\n')}\nnext, run: npx prisma generate && npx prisma migrate dev`
        : `${path.relative(process.cwd(), dir) || '.'} is up to date`,
    )
  } else if (command === 'check') {
    const problems = checkFragments(dir, only, values.provider)
    if (problems.length) {
      fail(
        `the next-atproto schema copies drifted:\n  ${problems.join('\n  ')}\nrun: npx next-atproto-prisma sync${values.only ? ` --only ${values.only}` : ''}${values.dir !== 'prisma/atproto' ? ` --dir ${values.dir}` : ''}`,
      )
    }
    console.log('next-atproto schema copies are up to date')
  } else if (command === 'print') {
    process.stdout.write(printFragments(only, values.provider))
  } else if (command === 'migrate') {
    const url = values.url ?? process.env.DATABASE_URL
    if (!url) fail('migrate needs --url or DATABASE_URL')
    const applied = await migrateUrl(url)
    console.log(applied.length ? `applied ${applied.join(', ')}` : 'no pending migrations')
  } else if (command === 'sql') {
    process.stdout.write(shippedSql(positionals[1], values.provider))
  } else {
    fail(`unknown command "${command}"\n${USAGE}`)
  }
} catch (e) {
  fail(e?.message ?? String(e))
}

/**
 * Apply the shipped migrations with the database driver directly (the CLI has no generated client):
 * a minimal `$queryRawUnsafe`/`$executeRawUnsafe` object over better-sqlite3, pg or mariadb, handed to
 * the adapter's own `migrate()` so there is one implementation of the bookkeeping.
 */
async function migrateUrl(url) {
  // The compiled helper: the CLI ships with the built package (dist/).
  const { migrate } = await import('../dist/prisma/migrate.js')
  if (url.startsWith('file:')) {
    const { default: Database } = await import('better-sqlite3')
    const db = new Database(url.slice('file:'.length).replace(/^\/\/(?=\/)/, ''))
    // better-sqlite3 binds no Date: store ISO strings, as Prisma's migration engine does.
    const args = (v) => v.map((x) => (x instanceof Date ? x.toISOString() : x))
    const client = {
      $queryRawUnsafe: async (sql, ...v) => db.prepare(sql).all(...args(v)),
      $executeRawUnsafe: async (sql, ...v) => db.prepare(sql).run(...args(v)).changes,
    }
    try {
      return await migrate(client, 'sqlite')
    } finally {
      db.close()
    }
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const { default: pg } = await import('pg')
    const c = new pg.Client({ connectionString: url })
    await c.connect()
    const client = {
      $queryRawUnsafe: async (sql, ...v) => (await c.query(sql, v)).rows,
      $executeRawUnsafe: async (sql, ...v) => (await c.query(sql, v)).rowCount ?? 0,
    }
    try {
      return await migrate(client, 'postgresql')
    } finally {
      await c.end()
    }
  }
  if (/^(mysql|mariadb):\/\//.test(url)) {
    const { default: mariadb } = await import('mariadb')
    const u = new URL(url)
    const c = await mariadb.createConnection({
      host: u.hostname,
      port: Number(u.port || 3306),
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password),
      database: decodeURIComponent(u.pathname.slice(1)),
    })
    const client = {
      $queryRawUnsafe: async (sql, ...v) => c.query(sql, v),
      $executeRawUnsafe: async (sql, ...v) => Number((await c.query(sql, v)).affectedRows ?? 0),
    }
    try {
      return await migrate(client, 'mysql')
    } finally {
      await c.end()
    }
  }
  throw new Error(
    `unsupported database URL scheme "${url.split(':')[0]}:" (use file:, postgresql:// or mysql://)`,
  )
}

/**
 * A shipped migration's SQL by its name without the number (`binary-keys` -> `0004_binary_keys`), for
 * apps that let their own `prisma migrate` create the atproto tables and must add our fix-ups to it.
 */
function shippedSql(name, provider) {
  if (!name) fail('sql needs a migration name (binary-keys)')
  if (!['mysql', 'postgresql'].includes(provider)) fail('sql needs --provider mysql or --provider postgresql')
  const dir = fileURLToPath(new URL(`../prisma/migrations/${provider}/`, import.meta.url))
  const wanted = name.replaceAll('-', '_')
  const found = fs.readdirSync(dir).find((d) => d.replace(/^\d+_/, '') === wanted)
  if (!found) fail(`no migration "${name}" for ${provider}`)
  return fs.readFileSync(path.join(dir, found, 'migration.sql'), 'utf8')
}
