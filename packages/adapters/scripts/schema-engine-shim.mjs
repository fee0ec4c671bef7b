#!/usr/bin/env node
// Stand-in for Prisma's native `schema-engine` binary, backed by @prisma/schema-engine-wasm + a driver adapter.
// Point the Prisma 7 CLI at it with PRISMA_SCHEMA_ENGINE_BINARY=<this file>, or call
// useOfflineSchemaEngine() from ./offline-engine.mjs in prisma.config.ts (it only does so when no native
// engine is installed, so machines that can download Prisma's binaries keep using them).
// Adapted from the tested recipe in /work/shared/notes/prisma-offline (Prisma 7.10, schema-engine-wasm 8.1).
// It speaks the same JSON-RPC-over-stdio protocol the CLI uses with the native engine
// (argv: --datamodels <file>... --datasource <json {url, shadowDatabaseUrl}> [cli <subcommand>]).
// SQLite (file:) and PostgreSQL (postgres://) only: the wasm engine has no MySQL connector.
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import readline from 'node:readline'
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils'
import * as glue from '@prisma/schema-engine-wasm/schema_engine_bg'

const require = createRequire(import.meta.url)
const argv = process.argv.slice(2)
const log = (level, message) =>
  process.stderr.write(
    `${JSON.stringify({
      timestamp: new Date().toISOString(),
      level,
      fields: { message },
      target: 'schema_engine::logger',
    })}\n`,
  )

globalThis.PRISMA_WASM_PANIC_REGISTRY = {
  message: '',
  set_message(m) {
    this.message = `RuntimeError: ${m}`
  },
}
const wasmFile = path.join(
  path.dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg')),
  'schema_engine_bg.wasm',
)
const instance = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(wasmFile)), {
  './schema_engine_bg.js': glue,
})
glue.__wbg_set_wasm(instance.exports)
instance.exports.__wbindgen_start()

process.on('uncaughtException', (e) => {
  log('ERROR', `${globalThis.PRISMA_WASM_PANIC_REGISTRY.message || ''} ${String(e?.message ?? e)}`)
  process.exit(101)
})

if (argv.includes('--version')) {
  console.log(`schema-engine-cli wasm-shim ${glue.version?.() ?? ''}`)
  process.exit(0)
}

const datamodels = []
let datasource = {}
let cliCommand = null
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--datamodels') datamodels.push(argv[++i])
  else if (argv[i] === '--datasource') datasource = JSON.parse(argv[++i])
  else if (argv[i] === 'cli') cliCommand = argv[++i]
}

async function adapterFactory(url, shadowUrl) {
  if (!url) throw new Error('schema-engine-shim: no datasource url (set datasource.url in prisma.config.ts)')
  if (url.startsWith('file:')) {
    const { PrismaBetterSqlite3 } = await import('@prisma/adapter-better-sqlite3')
    const factory = new PrismaBetterSqlite3({ url }, shadowUrl ? { shadowDatabaseUrl: shadowUrl } : undefined)
    // On the shadow database the wasm engine sends whole migration scripts through queryRaw/executeRaw,
    // which better-sqlite3 prepare()s ("The supplied SQL string contains more than one statement").
    // Route parameterless SQL of that kind to executeScript (db.exec) instead.
    const origShadow = factory.connectToShadowDb.bind(factory)
    factory.connectToShadowDb = async () => {
      const conn = await origShadow()
      for (const m of ['queryRaw', 'executeRaw']) {
        const orig = conn[m].bind(conn)
        conn[m] = async (q) => {
          if (process.env.SCHEMA_ENGINE_SHIM_DEBUG)
            process.stderr.write(`[shadow ${m}] ${q.sql.slice(0, 80)}\n`)
          try {
            return await orig(q)
          } catch (e) {
            if (q.args?.length || !/more than one statement/.test(String(e?.message))) throw e
            await conn.executeScript(q.sql)
            return m === 'executeRaw' ? 0 : { columnNames: [], columnTypes: [], rows: [] }
          }
        }
      }
      return conn
    }
    return factory
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const { PrismaPg } = await import('@prisma/adapter-pg')
    // discrete fields, not connectionString: adapter-pg's connectToShadowDb() does
    // new Pool({ ...config, database: shadow }) and a connectionString would override `database`
    const pgConfig = (s) => {
      const u = new URL(s)
      return {
        host: u.hostname,
        port: Number(u.port || 5432),
        user: decodeURIComponent(u.username),
        password: decodeURIComponent(u.password),
        database: decodeURIComponent(u.pathname.slice(1)) || 'postgres',
      }
    }
    const cfg = pgConfig(url)
    const factory = new PrismaPg(cfg)
    // adapter-pg 7.10.1 has no column-type mapping for PostgreSQL's internal "char" type (OID 18), which the
    // engine's catalog queries (describe schema: db push, migrate dev) return. Report it as TEXT (OID 25);
    // node-postgres already hands its values over as strings. Only this migration process is patched.
    const origConnect = factory.connect.bind(factory)
    factory.connect = async () => {
      const conn = await origConnect()
      let proto = conn
      while (proto && !Object.hasOwn(proto, 'performIO')) proto = Object.getPrototypeOf(proto)
      if (proto && !proto.performIO.__charPatched) {
        const perform = proto.performIO
        proto.performIO = async function (q) {
          const r = await perform.call(this, q)
          for (const f of r.fields ?? []) if (f.dataTypeID === 18) f.dataTypeID = 25
          return r
        }
        proto.performIO.__charPatched = true
      }
      return conn
    }
    // adapter-pg 7.10.1's own connectToShadowDb() drops the shadow database before closing its pool
    // ("database ... is being accessed by other users"), so provide one that closes first.
    factory.connectToShadowDb = async () => {
      if (shadowUrl) return new PrismaPg(pgConfig(shadowUrl)).connect()
      const admin = await factory.connect()
      const name = `prisma_migrate_shadow_db_${globalThis.crypto.randomUUID()}`
      await admin.executeScript(`CREATE DATABASE "${name}"`)
      const shadow = await new PrismaPg({ ...cfg, database: name }).connect()
      const close = shadow.dispose.bind(shadow)
      shadow.dispose = async () => {
        await close()
        await admin.executeScript(`DROP DATABASE IF EXISTS "${name}"`)
        await admin.dispose()
      }
      return shadow
    }
    return factory
  }
  throw new Error(
    `schema-engine-shim: unsupported url scheme in ${url.split(':')[0]}: (only file: and postgres[ql]:)`,
  )
}

// `cli` subcommands used by the CLI before migrate/db commands (ensureDatabaseExists)
if (cliCommand) {
  try {
    const f = await adapterFactory(datasource.url)
    if (cliCommand === 'can-connect-to-database') {
      const conn = await f.connect()
      await conn.queryRaw({ sql: 'SELECT 1', args: [], argTypes: [] })
      await conn.dispose()
    } else if (cliCommand === 'create-database') {
      if (!datasource.url.startsWith('file:')) {
        const u = new URL(datasource.url)
        const db = u.pathname.slice(1)
        u.pathname = '/postgres'
        const admin = await (await adapterFactory(u.toString())).connect()
        await admin.executeScript(`CREATE DATABASE "${db.replace(/"/g, '""')}"`)
        await admin.dispose()
      }
    } else throw new Error(`unsupported cli subcommand ${cliCommand}`)
    process.exit(0)
  } catch (e) {
    // the CLI skips the first stderr line, then looks for {level: ERROR, fields: {error_code, message}}
    const kind = e?.cause?.kind ?? e?.message
    process.stderr.write(
      `${JSON.stringify({
        level: 'INFO',
        fields: { message: `schema-engine-shim cli ${cliCommand}` },
        target: 'schema_engine::logger',
      })}\n`,
    )
    process.stderr.write(
      `${JSON.stringify({
        level: 'ERROR',
        target: 'schema_engine::logger',
        fields: {
          error_code: kind === 'DatabaseDoesNotExist' ? 'P1003' : 'P1001',
          message: String(e?.message ?? e),
        },
      })}\n`,
    )
    process.exit(1)
  }
}

let enginePromise
let boundFactory
function engine() {
  enginePromise ??= (async () => {
    const f = await adapterFactory(datasource.url, datasource.shadowDatabaseUrl)
    return glue.SchemaEngine.new(
      { datamodels: datamodels.length ? datamodels.map((p) => [p, fs.readFileSync(p, 'utf8')]) : undefined },
      (l) => {
        if (process.env.SCHEMA_ENGINE_SHIM_DEBUG) process.stderr.write(`${l}\n`)
      },
      (boundFactory = bindMigrationAwareSqlAdapterFactory(f)),
    )
  })()
  return enginePromise
}

let nextId = 1_000_000
const send = (msg) => process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', ...msg })}\n`)
const METHODS = new Set([
  'applyMigrations',
  'createDatabase',
  'createMigration',
  'dbExecute',
  'devDiagnostic',
  'diagnoseMigrationHistory',
  'ensureConnectionValidity',
  'evaluateDataLoss',
  'introspect',
  'markMigrationApplied',
  'markMigrationRolledBack',
  'reset',
  'schemaPush',
  'introspectSql',
])

async function handle(req) {
  const { id, method, params } = req
  if (method === undefined) return // the CLI's reply to our own `print` request
  try {
    const e = await engine()
    let result
    if (method === 'getDatabaseVersion') result = await e.version(params ?? null)
    else if (method === 'diff') {
      result = await e.diff(params)
      // the native engine prints the diff through a `print` request and returns stdout: null
      if (result.stdout) {
        send({ id: nextId++, method: 'print', params: { content: result.stdout.replace(/\n$/, '') } })
        result = { ...result, stdout: null }
      }
    } else if (method === 'debugPanic') result = e.debugPanic()
    else if (METHODS.has(method)) {
      if (method === 'devDiagnostic' && params?.migrationsList) {
        // wasm engine + empty SQLite db: devDiagnostic fails with P1014 (no _prisma_migrations table).
        // Applying an empty migration list creates that table and changes nothing else.
        await e.applyMigrations({
          migrationsList: { ...params.migrationsList, migrationDirectories: [] },
          filters: params.filters ?? { externalTables: [], externalEnums: [] },
        })
      }
      result = await e[method](params ?? {})
    } else
      throw Object.assign(new Error(`schema-engine-shim: method ${method} not supported`), { code: 'P1000' })
    send({ id, result: result ?? {} })
  } catch (err) {
    const panic = globalThis.PRISMA_WASM_PANIC_REGISTRY.message
    // "External error id#N": the real JS error sits in the adapter's error registry
    let msg = String(err?.message ?? err)
    msg = msg.replace(/External error id#(\d+)/g, (m, n) => {
      const e = boundFactory?.errorRegistry?.consumeError(Number(n))?.error
      return e ? `${m}: ${e?.message ?? JSON.stringify(e)}` : m
    })
    send({
      id,
      error: {
        code: 4466,
        message: 'An error happened. Check the data field for details.',
        data: { is_panic: !!panic, message: panic || msg, error_code: err?.code, meta: err?.meta },
      },
    })
    globalThis.PRISMA_WASM_PANIC_REGISTRY.message = ''
  }
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
const pending = []
rl.on('line', (line) => {
  if (line.trim()) pending.push(handle(JSON.parse(line)))
})
rl.on('close', async () => {
  await Promise.allSettled(pending)
  process.exit(0)
})
