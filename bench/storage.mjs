// Storage benchmark: the Prisma adapter on SQLite, PostgreSQL and MySQL beside raw better-sqlite3.
//   commit: one repo.transact() as a typical record write does it: 6 blocks + 1 record row + root + 1 event
//   range:  sequencer.range({ after, limit: 100 }), what the firehose backfill/live loop reads
// Run: npx tsc -b packages/core packages/adapters && node --import tsx bench/storage.mjs [--commits 400] [--only sqlite,postgresql]
// (tsx: the test Prisma clients are generated as TypeScript by scripts/postinstall.mjs.)
// PostgreSQL/MySQL come from POSTGRES_URL / MYSQL_URL (defaults: the local servers); a fresh database is
// created and dropped per run; an unreachable server is skipped with one line.
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import Database from 'better-sqlite3'
import { prismaAdapter } from '../packages/adapters/dist/index.js'
import { BlockMap, cidForBytes } from '../packages/core/dist/index.js'

const { values } = parseArgs({
  options: {
    commits: { type: 'string', default: '400' },
    reads: { type: 'string', default: '400' },
    only: { type: 'string', default: 'sqlite,postgresql,mysql' },
  },
})
const COMMITS = Number(values.commits)
const READS = Number(values.reads)
const DIDS = 20
const POSTGRES_URL = process.env.POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'
const MYSQL_URL = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/'
const withDb = (url, db) => Object.assign(new URL(url), { pathname: `/${db}` }).toString()

/** A commit's worth of data: 6 blocks (MST nodes, record, commit) of typical sizes and a 1 KB event. */
function commitData(i) {
  const blocks = new BlockMap()
  for (const size of [120, 300, 300, 450, 600, 220]) {
    const bytes = randomBytes(size)
    blocks.set(cidForBytes(bytes), bytes)
  }
  const [recordCid] = blocks.cids()
  return {
    did: `did:plc:bench${String(i % DIDS).padStart(19, '0')}`,
    rev: `3l${String(i).padStart(11, '0')}`,
    blocks,
    recordCid,
    body: randomBytes(1000),
  }
}

async function timeIt(n, fn) {
  const t = performance.now()
  for (let i = 0; i < n; i++) await fn(i)
  return n / ((performance.now() - t) / 1000)
}

async function benchAdapter(storage) {
  const data = Array.from({ length: COMMITS }, (_, i) => commitData(i))
  const commit = async (i) => {
    const d = data[i]
    await storage.repo.transact(d.did, async (tx) => {
      await tx.getRoot()
      await tx.putBlocks(d.blocks, d.rev)
      await tx.putRecord({ collection: 'app.bsky.feed.post', rkey: d.rev, cid: d.recordCid, repoRev: d.rev })
      await tx.updateRoot(d.recordCid, d.rev)
      await tx.sequence([{ did: d.did, type: 'commit', body: d.body }])
    })
  }
  const commitsPerSec = await timeIt(COMMITS, commit)
  // Concurrent writers on distinct DIDs: what per-DID locking (not one global lock) allows.
  const t = performance.now()
  await Promise.all(
    Array.from({ length: 8 }, async (_, w) => {
      for (let i = w; i < COMMITS; i += 8) await commit(i)
    }),
  )
  const concurrentPerSec = COMMITS / ((performance.now() - t) / 1000)
  const latest = (await storage.sequencer.latest()) ?? 0
  const readsPerSec = await timeIt(READS, async (i) => {
    const rows = await storage.sequencer.range({ after: (i * 37) % Math.max(1, latest - 100), limit: 100 })
    if (rows.length !== 100) throw new Error(`range returned ${rows.length} rows`)
  })
  return { commitsPerSec, concurrentPerSec, readsPerSec }
}

/** The same work with raw better-sqlite3 prepared statements: the floor of what SQLite costs. */
function benchRawSqlite(file) {
  const db = new Database(file)
  db.exec(`
    CREATE TABLE block (did TEXT NOT NULL, cid TEXT NOT NULL, bytes BLOB NOT NULL, rev TEXT, PRIMARY KEY (did, cid));
    CREATE TABLE record (did TEXT, collection TEXT, rkey TEXT, cid TEXT, repoRev TEXT, indexedAt INTEGER, PRIMARY KEY (did, collection, rkey));
    CREATE TABLE root (did TEXT PRIMARY KEY, cid TEXT, rev TEXT);
    CREATE TABLE seq (seq INTEGER PRIMARY KEY, did TEXT, type TEXT, body BLOB, time INTEGER);
    CREATE INDEX seq_time ON seq(time);`)
  const q = {
    root: db.prepare('SELECT cid, rev FROM root WHERE did = ?'),
    block: db.prepare('INSERT OR IGNORE INTO block (did, cid, bytes, rev) VALUES (?, ?, ?, ?)'),
    record: db.prepare('INSERT OR REPLACE INTO record VALUES (?, ?, ?, ?, ?, ?)'),
    setRoot: db.prepare('INSERT OR REPLACE INTO root VALUES (?, ?, ?)'),
    event: db.prepare(
      'INSERT INTO seq (seq, did, type, body, time) VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM seq), ?, ?, ?, ?)',
    ),
    range: db.prepare('SELECT * FROM seq WHERE seq > ? ORDER BY seq LIMIT 100'),
  }
  const data = Array.from({ length: COMMITS }, (_, i) => commitData(i))
  const tx = db.transaction((d) => {
    q.root.get(d.did)
    for (const [cid, bytes] of d.blocks) q.block.run(d.did, cid.toString(), bytes, d.rev)
    q.record.run(d.did, 'app.bsky.feed.post', d.rev, d.recordCid.toString(), d.rev, Date.now())
    q.setRoot.run(d.did, d.recordCid.toString(), d.rev)
    q.event.run(d.did, 'commit', d.body, Date.now())
  })
  let t = performance.now()
  for (const d of data) tx.immediate(d)
  const commitsPerSec = COMMITS / ((performance.now() - t) / 1000)
  t = performance.now()
  for (let i = 0; i < READS; i++) q.range.all((i * 37) % (COMMITS - 100))
  const readsPerSec = READS / ((performance.now() - t) / 1000)
  db.close()
  return { commitsPerSec, concurrentPerSec: Number.NaN, readsPerSec }
}

async function reachable(kind, probe) {
  try {
    await probe()
    return true
  } catch (e) {
    console.log(
      `skipping ${kind}: unreachable (${e.message}); start it or set ${kind === 'postgresql' ? 'POSTGRES_URL' : 'MYSQL_URL'}`,
    )
    return false
  }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'atproto-bench-'))
const only = new Set(values.only.split(','))
const results = []
try {
  results.push({ name: 'raw better-sqlite3', ...benchRawSqlite(path.join(tmp, 'raw.db')) })

  if (only.has('sqlite')) {
    const { PrismaClient } = await import('../packages/adapters/test/prisma/sqlite/generated/client.ts')
    const { PrismaBetterSqlite3 } = await import('@prisma/adapter-better-sqlite3')
    const storage = prismaAdapter(
      new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${path.join(tmp, 'prisma.db')}` }) }),
      { provider: 'sqlite' },
    )
    await storage.migrate()
    results.push({ name: 'prisma sqlite', ...(await benchAdapter(storage)) })
    await storage.close()
  }

  if (only.has('postgresql')) {
    const { default: pg } = await import('pg')
    const admin = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 })
    if (await reachable('postgresql', () => admin.connect())) {
      const name = `atproto_bench_${randomBytes(4).toString('hex')}`
      await admin.query(`CREATE DATABASE "${name}"`)
      try {
        const { PrismaClient } = await import(
          '../packages/adapters/test/prisma/postgresql/generated/client.ts'
        )
        const { PrismaPg } = await import('@prisma/adapter-pg')
        const storage = prismaAdapter(
          new PrismaClient({ adapter: new PrismaPg({ connectionString: withDb(POSTGRES_URL, name) }) }),
          { provider: 'postgresql' },
        )
        await storage.migrate()
        results.push({ name: 'prisma postgresql', ...(await benchAdapter(storage)) })
        await storage.close()
      } finally {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
        await admin.end()
      }
    }
  }

  if (only.has('mysql')) {
    const { default: mariadb } = await import('mariadb')
    const u = new URL(MYSQL_URL)
    const cfg = {
      host: u.hostname,
      port: Number(u.port || 3306),
      user: decodeURIComponent(u.username) || 'root',
      password: decodeURIComponent(u.password),
      connectTimeout: 3000,
    }
    let admin
    if ((await reachable('mysql', async () => (admin = await mariadb.createConnection(cfg)))) && admin) {
      const name = `atproto_bench_${randomBytes(4).toString('hex')}`
      await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
      try {
        const { PrismaClient } = await import('../packages/adapters/test/prisma/mysql/generated/client.ts')
        const { PrismaMariaDb } = await import('@prisma/adapter-mariadb')
        const storage = prismaAdapter(
          new PrismaClient({ adapter: new PrismaMariaDb(withDb(MYSQL_URL, name)) }),
          { provider: 'mysql' },
        )
        await storage.migrate()
        results.push({ name: 'prisma mysql', ...(await benchAdapter(storage)) })
        await storage.close()
      } finally {
        await admin.query(`DROP DATABASE IF EXISTS \`${name}\``)
        await admin.end()
      }
    }
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true })
}

const base = results[0]
const f = (n) => (Number.isNaN(n) ? '-' : n >= 100 ? n.toFixed(0) : n.toFixed(1))
const r = (n, b) => (Number.isNaN(n) ? '-' : `${(n / b).toFixed(3)}x`)
console.log(
  `\nstorage bench: ${COMMITS} commits (6 blocks + record + root + event), ${READS} range reads of 100 events\n`,
)
console.log('| storage | commits/s | commits/s, 8 writers | vs raw | range reads/s | vs raw |')
console.log('|---|---|---|---|---|---|')
for (const x of results) {
  console.log(
    `| ${x.name} | ${f(x.commitsPerSec)} | ${f(x.concurrentPerSec)} | ${r(x.commitsPerSec, base.commitsPerSec)} | ${f(x.readsPerSec)} | ${r(x.readsPerSec, base.readsPerSec)} |`,
  )
}
process.exit(0)
