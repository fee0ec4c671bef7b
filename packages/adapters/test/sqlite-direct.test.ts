// The SQLite direct connections (src/prisma/sqlite-direct.ts) beside the app's own Prisma connection on
// the same file: locks held elsewhere, a repo moved by another writer, and data that each side reads
// back exactly as the other wrote it. The storage contract itself runs on them in storage.test.ts.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { StorageAdapter } from '@next-atproto/core'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { prismaAdapter } from '../src/prisma/index.js'
import { accountRow, block, blocksOf, body, rev, sleep, uniqueDid } from '../src/testing/fixtures.js'
import { sqliteClient } from './clients.js'

const dir = mkdtempSync(join(tmpdir(), 'atproto-direct-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let files = 0

async function open(opts: { wal?: boolean; timestampFormat?: 'iso8601' | 'unixepoch-ms' } = {}) {
  const url = `file:${join(dir, `d${files++}.db`)}`
  const client = sqliteClient(
    url,
    opts.timestampFormat ? { timestampFormat: opts.timestampFormat } : undefined,
  )
  const direct = prismaAdapter(client, { provider: 'sqlite', sqliteWal: opts.wal ?? false })
  await direct.migrate()
  // The same file through Prisma only (the app's view, or an adapter with the fast path off).
  const plainClient = sqliteClient(
    url,
    opts.timestampFormat ? { timestampFormat: opts.timestampFormat } : undefined,
  )
  const plain = prismaAdapter(plainClient, { provider: 'sqlite', sqliteDirect: false })
  return { url, client, direct, plain, plainClient }
}

const POST = 'app.test.post'

/** A first commit of `did` holding one record (and its `#commit` event when `event` is given). */
async function writeRecord(
  storage: StorageAdapter,
  did: string,
  rkey: string,
  rec: ReturnType<typeof block>,
  event?: Uint8Array,
) {
  await storage.repo.transact(did, async (tx) => {
    await tx.putBlocks(blocksOf(rec), rev(1))
    await tx.putRecord({ collection: POST, rkey, cid: rec.cid, repoRev: rev(1) })
    await tx.updateRoot(rec.cid, rev(1))
    if (event) await tx.sequence([{ did, type: 'commit', body: event }])
  })
}

describe('SQLite direct connections', () => {
  it('are used for a file database and not for an in-memory one', async () => {
    const { direct, plain } = await open()
    expect(await direct.sqliteDirect()).toEqual({ walCheckpoints: 'sqlite' }) // not in WAL mode
    expect(await plain.sqliteDirect()).toBeNull()
    const memory = prismaAdapter(sqliteClient('file::memory:'), { provider: 'sqlite' })
    expect(await memory.sqliteDirect()).toBeNull()
    await Promise.all([direct.close(), plain.close(), memory.close()])
  })

  for (const timestampFormat of ['iso8601', 'unixepoch-ms'] as const) {
    it(`write rows Prisma reads back, and read rows Prisma wrote (${timestampFormat})`, async () => {
      const { direct, plain } = await open({ wal: true, timestampFormat })
      const before = Date.now() - 1000
      const did = uniqueDid()
      const rec = block({ text: 'direct' })
      await writeRecord(direct, did, 'a', rec, body(1))
      const row = await plain.repo.read(did, (r) => r.getRecord(POST, 'a'))
      expect(row?.cid.equals(rec.cid)).toBe(true)
      expect(row!.indexedAt.getTime()).toBeGreaterThan(before)
      expect(row!.indexedAt.getTime()).toBeLessThanOrEqual(Date.now())
      const [event] = await plain.sequencer.range({ after: 0, limit: 10 })
      expect(event?.body).toEqual(body(1))
      expect(event!.time.getTime()).toBeGreaterThan(before)
      // Retention compares times in SQL: the cut-off must be written the way the rows are.
      expect(await direct.sequencer.earliestAfter!(new Date(before))).toBe(event!.seq)
      expect(await direct.sequencer.earliestAfter!(new Date(Date.now() + 60_000))).toBeNull()

      // The other way: Prisma writes, the direct side reads.
      const other = uniqueDid()
      const two = block({ text: 'prisma' })
      await writeRecord(plain, other, 'b', two)
      const back = await direct.repo.read(other, (r) => r.getRecord(POST, 'b'))
      expect(back?.indexedAt.getTime()).toBeGreaterThan(before)
      expect((await direct.repo.getRecordBlock!(other, POST, 'b'))?.bytes).toEqual(two.bytes)
      await plain.accounts.create(accountRow(other, { email: 'a@example.com' }))
      await plain.accounts.updateStatus(other, 'deactivated')
      expect(await direct.accounts.getByDid(other)).toEqual(await plain.accounts.getByDid(other))
      expect((await direct.accounts.getByDid(other))?.deactivatedAt).toBeInstanceOf(Date)
      await Promise.all([direct.close(), plain.close()])
    })
  }

  for (const wal of [true, false]) {
    it(`wait for a write lock the app's own Prisma transaction holds, without blocking the event loop (${wal ? 'WAL' : 'rollback journal'})`, async () => {
      const { direct, plain, plainClient } = await open({ wal })
      const did = uniqueDid()
      const rec = block({ n: 1 })
      let hostDone = 0
      const host = plainClient.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(`INSERT INTO atproto_repo_lock (did) VALUES ('host-lock')`)
        await sleep(300)
        hostDone = Date.now()
      })
      await sleep(30) // the host's transaction now holds SQLite's write lock
      let ticks = 0
      const timer = setInterval(() => ticks++, 10)
      await direct.repo.transact(did, async (tx) => {
        await tx.putBlocks(blocksOf(rec), rev(1))
        await tx.updateRoot(rec.cid, rev(1))
        await tx.sequence([{ did, type: 'commit', body: body(2) }])
      })
      const committed = Date.now()
      clearInterval(timer)
      await host
      // The commit landed after the host's transaction let go, and timers kept firing meanwhile.
      expect(committed).toBeGreaterThanOrEqual(hostDone)
      expect(ticks).toBeGreaterThan(10)
      expect((await plain.repo.read(did, (r) => r.getRoot()))?.rev).toBe(rev(1))
      const locks = await plainClient.$queryRawUnsafe<Array<{ did: string }>>(
        'SELECT did FROM atproto_repo_lock',
      )
      expect(locks.map((l) => l.did)).toEqual(['host-lock'])
      await Promise.all([direct.close(), plain.close()])
    })
  }

  it('run a commit again when another writer moved the repo under it, and lose neither write', async () => {
    const { direct, plain, plainClient } = await open({ wal: true })
    const did = uniqueDid()
    const one = block({ v: 1 })
    await direct.repo.transact(did, (tx) => tx.updateRoot(one.cid, rev(1)))
    const seen: string[] = []
    await direct.repo.transact(did, async (tx) => {
      const root = await tx.getRoot()
      seen.push(root!.rev)
      // Another process commits to this repo while the first attempt is running.
      if (seen.length === 1) {
        await plainClient.$executeRawUnsafe(
          'UPDATE atproto_repo_root SET rev = ? WHERE did = ?',
          rev(Number(root!.rev.slice(2)) + 1),
          did,
        )
      }
      await tx.updateRoot(one.cid, rev(Number(root!.rev.slice(2)) + 1))
      await tx.sequence([{ did, type: 'commit', body: body(seen.length) }])
    })
    expect(seen).toEqual([rev(1), rev(2)])
    expect((await plain.repo.read(did, (r) => r.getRoot()))?.rev).toBe(rev(3))
    // Only the attempt that committed left an event.
    const events = (await plain.sequencer.range({ after: 0, limit: 10 })).filter((e) => e.did === did)
    expect(events.map((e) => e.body)).toEqual([body(2)])
    await Promise.all([direct.close(), plain.close()])
  })

  it('run a commit again when another writer moved the repo and deleted a block the first attempt read', async () => {
    const { direct, plain } = await open({ wal: true })
    const did = uniqueDid()
    const one = block({ v: 1 })
    const two = block({ v: 2 })
    await direct.repo.transact(did, async (tx) => {
      await tx.putBlocks(blocksOf(one), rev(1))
      await tx.updateRoot(one.cid, rev(1))
    })
    const seen: string[] = []
    await direct.repo.transact(did, async (tx) => {
      const root = (await tx.getRoot())!
      seen.push(root.rev)
      if (seen.length === 1) {
        // Another process commits a new version and deletes the block of the one it replaced, as commits
        // delete their stale blocks, between this attempt's reads.
        await plain.repo.transact(did, async (other) => {
          await other.putBlocks(blocksOf(two), rev(2))
          await other.deleteBlocks([one.cid])
          await other.updateRoot(two.cid, rev(2))
        })
      }
      const got = await tx.getBlocks([root.cid])
      if (got.missing.length > 0) throw new Error(`missing block ${root.cid}`)
      await tx.updateRoot(root.cid, rev(Number(root.rev.slice(2)) + 1))
    })
    expect(seen).toEqual([rev(1), rev(2)])
    expect(await plain.repo.read(did, (r) => r.getRoot())).toEqual({ cid: two.cid, rev: rev(3) })
    await Promise.all([direct.close(), plain.close()])
  })

  it('fail a commit whose repo did not move with its own error, without running it again', async () => {
    const { direct, plain } = await open({ wal: true })
    const did = uniqueDid()
    const one = block({ v: 1 })
    await direct.repo.transact(did, (tx) => tx.updateRoot(one.cid, rev(1)))
    let runs = 0
    await expect(
      direct.repo.transact(did, async (tx) => {
        runs++
        await tx.updateRoot(one.cid, rev(2))
        throw new Error('refused')
      }),
    ).rejects.toThrow('refused')
    expect(runs).toBe(1)
    expect((await plain.repo.read(did, (r) => r.getRoot()))?.rev).toBe(rev(1))
    await Promise.all([direct.close(), plain.close()])
  })

  it('serialize two adapters of one process on the same repo (one lock per file and DID)', async () => {
    const { url, direct, plain } = await open({ wal: true })
    const second = prismaAdapter(sqliteClient(url), { provider: 'sqlite' })
    const did = uniqueDid()
    const rec = block({ n: 0 })
    const order: number[] = []
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        (i % 2 ? second : direct).repo.transact(did, async (tx) => {
          const root = await tx.getRoot()
          const n = root ? Number(root.rev.slice(2)) : 0
          order.push(n)
          await sleep(2)
          await tx.updateRoot(rec.cid, rev(n + 1))
        }),
      ),
    )
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect((await plain.repo.read(did, (r) => r.getRoot()))?.rev).toBe(rev(10))
    await Promise.all([direct.close(), plain.close(), second.close()])
  })

  it('see their own point writes inside a commit, and nothing of a failed one afterwards', async () => {
    const { direct, plain } = await open({ wal: true })
    const did = uniqueDid()
    const a = block({ a: 1 })
    const b = block({ b: 2 })
    await direct.repo.transact(did, async (tx) => {
      await tx.putBlocks(blocksOf(a, b), rev(1))
      await tx.putRecord({ collection: POST, rkey: 'x', cid: a.cid, repoRev: rev(1) })
      await tx.deleteBlocks([b.cid])
      await tx.updateRoot(a.cid, rev(1))
      const { blocks, missing } = await tx.getBlocks([a.cid, b.cid])
      expect(blocks.get(a.cid)).toEqual(a.bytes)
      expect(missing.map(String)).toEqual([b.cid.toString()])
      expect((await tx.getRecord(POST, 'x'))?.cid.equals(a.cid)).toBe(true)
      expect((await tx.getRoot())?.rev).toBe(rev(1))
      await tx.deleteRecord(POST, 'x')
      expect(await tx.getRecord(POST, 'x')).toBeNull()
    })
    await plain.repo.read(did, async (r) => {
      expect((await r.getRoot())?.rev).toBe(rev(1))
      expect(await r.getRecord(POST, 'x')).toBeNull()
      expect((await r.getBlocks([b.cid])).missing).toHaveLength(1)
    })
    await Promise.all([direct.close(), plain.close()])
  })

  it('checkpoint the WAL in the background, so it restarts instead of growing, in turns or in a tight loop', async () => {
    const { url, direct, plain } = await open({ wal: true })
    const file = url.slice('file:'.length)
    const did = uniqueDid()
    let n = 0
    const commit = async () => {
      const i = n++
      const b = block({ i, pad: 'x'.repeat(200) })
      await direct.repo.transact(did, async (tx) => {
        await tx.putBlocks(blocksOf(b), rev(i + 1))
        await tx.updateRoot(b.cid, rev(i + 1))
        await tx.sequence([{ did, type: 'commit', body: body(i) }])
      })
    }
    // The WAL header's checkpoint sequence number goes up by one each time the log restarts.
    const restarts = () => readFileSync(`${file}-wal`).readUInt32BE(12)
    await commit()
    await sleep(300)
    expect(await direct.sqliteDirect()).toEqual({ walCheckpoints: 'background' })
    const wal = new Database(file, { readonly: true })
    expect(wal.pragma('journal_mode', { simple: true })).toBe('wal')
    // As a server does: every write in its own turn of the event loop. 8,000 commits write well over
    // 20,000 frames; the log restarts once a checkpoint finds it past 4,000 (a cycle is >= 50 ms).
    const first = restarts()
    for (let i = 0; i < 8000; i++) {
      await commit()
      await new Promise((r) => setImmediate(r))
    }
    expect(restarts() - first).toBeGreaterThanOrEqual(2)
    // A loop that never yields gives the worker no turn: the writer checkpoints inline every 2,000.
    const second = restarts()
    for (let i = 0; i < 4100; i++) await commit()
    expect(restarts() - second).toBeGreaterThanOrEqual(2)
    expect((await plain.repo.read(did, (r) => r.getRoot()))?.rev).toBe(rev(n))
    expect(wal.prepare('SELECT count(*) AS n FROM atproto_seq_event').get()).toEqual({ n })
    wal.close()
    await Promise.all([direct.close(), plain.close()])
  }, 60_000)
})
