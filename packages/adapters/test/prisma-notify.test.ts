// Cross-process firehose wake-ups. PostgreSQL: LISTEN/NOTIFY between two adapters (two clients, as two
// processes would have) over one database: a committed append wakes the other side, a rolled-back one
// does not, and the listener comes back after its connection is killed. SQLite: another process's commit
// is noticed through PRAGMA data_version.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Sequencer } from '@next-atproto/core'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type PrismaStorageAdapter, prismaAdapter } from '../src/index.js'
import { postgresClient, sqliteClient } from './clients.js'
import { createPostgresDatabase, postgresAvailable, type TestDatabase } from './databases.js'

const body = (n: number) => new Uint8Array([0xa1, 0x61, 0x6e, n]) // {n: n}
const until = async (pred: () => boolean, ms = 20_000) => {
  const deadline = Date.now() + ms
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 10))
  }
}

describe.runIf(await postgresAvailable())('prisma postgresql LISTEN/NOTIFY', () => {
  let db: TestDatabase
  let writer: PrismaStorageAdapter
  let reader: PrismaStorageAdapter
  beforeAll(async () => {
    db = await createPostgresDatabase()
    writer = prismaAdapter(postgresClient(db.url), { provider: 'postgresql', listen: false })
    await writer.migrate()
    reader = prismaAdapter(postgresClient(db.url), { provider: 'postgresql' })
  })
  afterAll(async () => {
    await writer?.close()
    await reader?.close()
    await db?.drop()
  })

  it('finds the LISTEN connection settings in the driver adapter, and listen: false turns it off', () => {
    expect(reader.sequencer.watch).toBeTypeOf('function')
    expect(writer.sequencer.watch).toBeUndefined()
  })

  it('wakes on commit of another client, not on rollback, and again after the connection is killed', async () => {
    let wakes = 0
    const stop = reader.sequencer.watch!(() => wakes++)
    try {
      await until(() => wakes >= 1) // the initial catch-up wake once listening
      const base = wakes
      await writer.sequencer.append([{ did: 'did:example:a', type: 'identity', body: body(1) }])
      await until(() => wakes > base)

      // A rolled-back repo transaction that sequenced events announces nothing.
      const beforeRollback = wakes
      await expect(
        writer.repo.transact('did:example:b', async (tx) => {
          await tx.sequence([{ did: 'did:example:b', type: 'identity', body: body(2) }])
          throw new Error('abort')
        }),
      ).rejects.toThrow('abort')
      await writer.sequencer.append([{ did: 'did:example:a', type: 'identity', body: body(3) }])
      await until(() => wakes > beforeRollback)
      // Exactly the committed append woke us (the rolled-back one would have come first).
      await new Promise((r) => setTimeout(r, 200))
      expect(wakes).toBe(beforeRollback + 1)

      // Kill the LISTEN backend: the listener reconnects and wakes (catch-up), then delivers again.
      const admin = new pg.Client({ connectionString: db.url })
      await admin.connect()
      const killed = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'next-atproto firehose listener' AND datname = current_database()`,
      )
      await admin.end()
      expect(killed.rowCount).toBe(1)
      const beforeKill = wakes
      await until(() => wakes > beforeKill) // reconnected
      const reconnected = wakes
      await writer.sequencer.append([{ did: 'did:example:a', type: 'identity', body: body(4) }])
      await until(() => wakes > reconnected)
    } finally {
      stop()
    }
  })

  it('drives a core Sequencer: another client’s commit reaches a live subscriber without polling', async () => {
    // Polls far beyond the test timeout: only the notification can deliver in time.
    const sequencer = new Sequencer(reader.sequencer, { pollMs: 3_600_000, fallbackPollMs: 3_600_000 })
    await sequencer.start()
    const abort = new AbortController()
    const frames = sequencer.subscribe(undefined, abort.signal)
    const first = frames.next()
    await new Promise((r) => setTimeout(r, 300)) // subscriber registered, listener up
    const [seq] = await writer.sequencer.append([{ did: 'did:example:c', type: 'identity', body: body(5) }])
    const got = (await first).value as { seq: number }
    expect(got.seq).toBe(seq)
    abort.abort()
    await sequencer.close()
  })
})

describe('prisma sqlite cross-process wake-ups', () => {
  it('a commit by another process reaches a live subscriber without waiting for the poll', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'atproto-sqlite-watch-'))
    const url = `file:${join(tmp, 'watch.db')}`
    const storage = prismaAdapter(sqliteClient(url), { provider: 'sqlite' })
    try {
      await storage.migrate()
      expect(storage.sequencer.watch).toBeTypeOf('function')
      const sequencer = new Sequencer(storage.sequencer, { pollMs: 3_600_000, fallbackPollMs: 3_600_000 })
      await sequencer.start()
      const abort = new AbortController()
      const frames = sequencer.subscribe(undefined, abort.signal)
      const first = frames.next()
      await new Promise((r) => setTimeout(r, 300)) // the first data_version reading is the baseline
      await promisify(execFile)(
        process.execPath,
        [
          '--import',
          'tsx',
          join(import.meta.dirname, 'fixtures/sqlite-writer.ts'),
          url,
          'did:example:child',
          '1',
        ],
        { cwd: join(import.meta.dirname, '..') },
      )
      const got = (await first).value as { seq: number }
      expect(got.seq).toBe(await storage.sequencer.latest())
      abort.abort()
      await sequencer.close()
    } finally {
      await storage.close()
      rmSync(tmp, { recursive: true, force: true })
    }
  }, 60_000)
})
