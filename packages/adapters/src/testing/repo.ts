import { type BlockMap, cidForBytes, exportRepoBlocks } from '@next-atproto/core'
import { expect, it } from 'vitest'
import { block, blocksOf, body, rev, type SuiteContext, sleep, uniqueDid } from './fixtures.js'

const POST = 'app.test.post'

/** Repo contract: per-DID transactions, atomic commits, record index, block export. */
export function repoSuite(ctx: SuiteContext): void {
  it('commits blocks, record rows, root and events together', async () => {
    const { storage } = ctx
    const did = uniqueDid()
    const rec = block({ text: 'hello' })
    const before = (await storage.sequencer.latest()) ?? 0
    const result = await storage.repo.transact(did, async (tx) => {
      await tx.putBlocks(blocksOf(rec), rev(1))
      await tx.putRecord({ collection: POST, rkey: 'a', cid: rec.cid, repoRev: rev(1) })
      await tx.updateRoot(rec.cid, rev(1))
      await tx.sequence([{ did, type: 'commit', body: body(1) }])
      return 'done'
    })
    expect(result).toBe('done')
    await storage.repo.read(did, async (r) => {
      const root = await r.getRoot()
      expect(root?.rev).toBe(rev(1))
      expect(root?.cid.equals(rec.cid)).toBe(true)
      const row = await r.getRecord(POST, 'a')
      expect(row?.cid.equals(rec.cid)).toBe(true)
      expect(row?.repoRev).toBe(rev(1))
      expect(row?.indexedAt).toBeInstanceOf(Date)
      const { blocks, missing } = await r.getBlocks([rec.cid])
      expect(missing).toEqual([])
      expect(blocks.get(rec.cid)).toEqual(rec.bytes)
    })
    const events = (await storage.sequencer.range({ after: before, limit: 100 })).filter((e) => e.did === did)
    expect(events).toHaveLength(1)
    expect(events[0]!.type).toBe('commit')
    expect(events[0]!.body).toEqual(body(1))
  })

  it('leaves nothing behind when a commit fails midway (no blocks, rows, root or event)', async () => {
    const { storage } = ctx
    const did = uniqueDid()
    const rec = block({ text: 'doomed' })
    const before = await storage.sequencer.latest()
    await expect(
      storage.repo.transact(did, async (tx) => {
        await tx.putBlocks(blocksOf(rec), rev(1))
        await tx.putRecord({ collection: POST, rkey: 'a', cid: rec.cid, repoRev: rev(1) })
        await tx.updateRoot(rec.cid, rev(1))
        await tx.sequence([{ did, type: 'commit', body: body(2) }])
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    await storage.repo.read(did, async (r) => {
      expect(await r.getRoot()).toBeNull()
      expect(await r.getRecord(POST, 'a')).toBeNull()
      expect((await r.getBlocks([rec.cid])).missing).toHaveLength(1)
      expect(await r.countRecords()).toBe(0)
    })
    expect(await storage.sequencer.latest()).toBe(before)
  })

  it('keeps the previous commit intact when a later one fails, and stays writable', async () => {
    const { storage } = ctx
    const did = uniqueDid()
    const one = block({ v: 1 })
    const two = block({ v: 2 })
    await storage.repo.transact(did, async (tx) => {
      await tx.putBlocks(blocksOf(one), rev(1))
      await tx.putRecord({ collection: POST, rkey: 'a', cid: one.cid, repoRev: rev(1) })
      await tx.updateRoot(one.cid, rev(1))
    })
    await expect(
      storage.repo.transact(did, async (tx) => {
        await tx.putBlocks(blocksOf(two), rev(2))
        await tx.deleteBlocks([one.cid])
        await tx.deleteRecord(POST, 'a')
        await tx.putRecord({ collection: POST, rkey: 'b', cid: two.cid, repoRev: rev(2) })
        await tx.updateRoot(two.cid, rev(2))
        throw new Error('second commit fails')
      }),
    ).rejects.toThrow('second commit fails')
    await storage.repo.read(did, async (r) => {
      expect((await r.getRoot())?.rev).toBe(rev(1))
      expect((await r.getRecord(POST, 'a'))?.cid.equals(one.cid)).toBe(true)
      expect(await r.getRecord(POST, 'b')).toBeNull()
      const { missing } = await r.getBlocks([one.cid, two.cid])
      expect(missing.map(String)).toEqual([two.cid.toString()])
    })
    // The per-DID lock was released by the failure.
    await storage.repo.transact(did, (tx) => tx.updateRoot(two.cid, rev(3)))
    expect((await storage.repo.read(did, (r) => r.getRoot()))?.rev).toBe(rev(3))
  })

  it('serializes 10 concurrent writers on one DID into 10 sequential revs', async () => {
    const { storage } = ctx
    const did = uniqueDid()
    const rec = block({ n: 0 })
    const seen: number[] = []
    await Promise.all(
      Array.from({ length: 10 }, () =>
        storage.repo.transact(did, async (tx) => {
          const root = await tx.getRoot()
          const current = root ? Number(root.rev.slice(2)) : 0
          seen.push(current)
          await sleep(2) // widen the race window
          await tx.updateRoot(rec.cid, rev(current + 1))
        }),
      ),
    )
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect((await storage.repo.read(did, (r) => r.getRoot()))?.rev).toBe(rev(10))
  })

  it('never shows a reader half of a commit', async () => {
    const { storage } = ctx
    const did = uniqueDid()
    const rec = block({ torn: true })
    const writing = storage.repo.transact(did, async (tx) => {
      await tx.putBlocks(blocksOf(rec), rev(1))
      await tx.putRecord({ collection: POST, rkey: 'x', cid: rec.cid, repoRev: rev(1) })
      await sleep(20)
      await tx.updateRoot(rec.cid, rev(1))
    })
    const snapshots = await Promise.all(
      [0, 5, 10, 30].map(async (ms) => {
        await sleep(ms)
        return storage.repo.read(did, async (r) => ({
          root: await r.getRoot(),
          row: await r.getRecord(POST, 'x'),
        }))
      }),
    )
    await writing
    for (const s of snapshots) expect(s.root === null).toBe(s.row === null)
  })

  it('updates, deletes and counts record rows; lists non-empty collections', async () => {
    const { storage } = ctx
    const did = uniqueDid()
    const v1 = block({ v: 1 })
    const v2 = block({ v: 2 })
    await storage.repo.transact(did, async (tx) => {
      await tx.putBlocks(blocksOf(v1, v2), rev(1))
      await tx.putRecord({ collection: POST, rkey: 'a', cid: v1.cid, repoRev: rev(1) })
      await tx.putRecord({ collection: 'app.test.like', rkey: 'l', cid: v1.cid, repoRev: rev(1) })
      await tx.putRecord({ collection: 'app.test.zap', rkey: 'z', cid: v1.cid, repoRev: rev(1) })
    })
    await storage.repo.transact(did, async (tx) => {
      await tx.putRecord({ collection: POST, rkey: 'a', cid: v2.cid, repoRev: rev(2) })
      await tx.deleteRecord('app.test.like', 'l')
      await tx.deleteRecord('app.test.like', 'never-existed')
    })
    await storage.repo.read(did, async (r) => {
      const row = await r.getRecord(POST, 'a')
      expect(row?.cid.equals(v2.cid)).toBe(true)
      expect(row?.repoRev).toBe(rev(2))
      expect(await r.getRecord('app.test.like', 'l')).toBeNull()
      expect(await r.listCollections()).toEqual([POST, 'app.test.zap'])
      expect(await r.countRecords()).toBe(2)
    })
    // Another DID sees none of it.
    await storage.repo.read(uniqueDid(), async (r) => {
      expect(await r.getRoot()).toBeNull()
      expect(await r.getRecord(POST, 'a')).toBeNull()
      expect(await r.listRecords(POST, { limit: 10 })).toEqual([])
      expect(await r.listCollections()).toEqual([])
      expect(await r.countRecords()).toBe(0)
    })
  })

  it('pages records stably by rkey, both directions, while records are added', async () => {
    const { storage } = ctx
    const did = uniqueDid()
    const rec = block({ r: 1 })
    await storage.repo.transact(did, async (tx) => {
      await tx.putBlocks(blocksOf(rec), rev(1))
      for (let i = 0; i < 9; i++)
        await tx.putRecord({ collection: 'app.test.like', rkey: `k${i}`, cid: rec.cid, repoRev: rev(1) })
    })
    const list = (opts: { limit: number; cursor?: string; reverse?: boolean }) =>
      storage.repo.read(did, async (r) => (await r.listRecords('app.test.like', opts)).map((x) => x.rkey))
    expect(await list({ limit: 4 })).toEqual(['k8', 'k7', 'k6', 'k5'])
    // A record added before the cursor (newer rkey) and one after it: no duplicate, no skip.
    await storage.repo.transact(did, async (tx) => {
      await tx.putRecord({ collection: 'app.test.like', rkey: 'k9', cid: rec.cid, repoRev: rev(2) })
      await tx.putRecord({ collection: 'app.test.like', rkey: 'k45', cid: rec.cid, repoRev: rev(2) })
    })
    expect(await list({ limit: 10, cursor: 'k5' })).toEqual(['k45', 'k4', 'k3', 'k2', 'k1', 'k0'])
    expect(await list({ limit: 3, reverse: true })).toEqual(['k0', 'k1', 'k2'])
    expect(await list({ limit: 3, reverse: true, cursor: 'k2' })).toEqual(['k3', 'k4', 'k45'])
    expect(await list({ limit: 10, reverse: true, cursor: 'k8' })).toEqual(['k9'])
    expect(await list({ limit: 10, cursor: 'k0' })).toEqual([])
    expect(await storage.repo.read(did, (r) => r.countRecords())).toBe(11)
  })

  it('keeps record keys case-sensitive, at full spec length, ordered by bytes', async () => {
    const { storage } = ctx
    // A did:web at the hostname limit and the longest NSID and record key the syntax allows: a valid
    // record must never fail to store (a database column that truncates or refuses it would 500).
    const host = (c: string) => [c.repeat(63), c.repeat(63), c.repeat(63), c.repeat(61)].join('.') // 253
    const did = `did:web:${host('h')}`
    const collection = `${host('n')}.${'N'.repeat(63)}` // 317, the NSID limit
    const long = `K${'k'.repeat(510)}~`
    // rkeys that differ only by case or punctuation are distinct records (case-insensitive collations
    // would merge them), and listRecords orders by bytes like the reference (not a linguistic order).
    const rkeys = ['self', 'Self', 'SELF', 'a-b', 'a.b', 'a_b', 'a:b', 'a~b', 'ab', 'AB', '0', long]
    const recs = rkeys.map((rkey) => block({ rkey }))
    await storage.repo.transact(did, async (tx) => {
      await tx.putBlocks(blocksOf(...recs), rev(1))
      for (const [i, rkey] of rkeys.entries())
        await tx.putRecord({ collection, rkey, cid: recs[i]!.cid, repoRev: rev(1) })
      await tx.updateRoot(recs[0]!.cid, rev(1))
    })
    const byBytes = [...rkeys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    await storage.repo.read(did, async (r) => {
      expect(await r.countRecords()).toBe(rkeys.length)
      for (const [i, rkey] of rkeys.entries()) {
        const row = await r.getRecord(collection, rkey)
        expect(row?.rkey ?? rkey).toBe(rkey)
        expect(row?.cid.equals(recs[i]!.cid)).toBe(true)
      }
      expect(await r.getRecord(collection, 'sElf')).toBeNull()
      expect(await r.getRecord(collection.toLowerCase(), 'self')).toBeNull()
      expect(await r.listCollections()).toEqual([collection])
      const asc = (await r.listRecords(collection, { limit: 100, reverse: true })).map((x) => x.rkey)
      expect(asc).toEqual(byBytes)
      const desc = (await r.listRecords(collection, { limit: 100 })).map((x) => x.rkey)
      expect(desc).toEqual([...byBytes].reverse())
      const page = (await r.listRecords(collection, { limit: 3, reverse: true, cursor: 'Self' })).map(
        (x) => x.rkey,
      )
      expect(page).toEqual(byBytes.slice(byBytes.indexOf('Self') + 1, byBytes.indexOf('Self') + 4))
    })
    await storage.repo.transact(did, (tx) => tx.deleteRecord(collection, 'SELF'))
    await storage.repo.read(did, async (r) => {
      expect(await r.getRecord(collection, 'SELF')).toBeNull()
      expect((await r.getRecord(collection, 'self'))?.cid.equals(recs[0]!.cid)).toBe(true)
      expect(await r.countRecords()).toBe(rkeys.length - 1)
    })
  })

  it('reads a record with its block in one atomic read, when supported', async () => {
    const { storage } = ctx
    if (!storage.repo.getRecordBlock) return
    const getRecordBlock = storage.repo.getRecordBlock.bind(storage.repo)
    const did = uniqueDid()
    const v1 = block({ v: 'one' })
    const v2 = block({ v: 'two' })
    await storage.repo.transact(did, async (tx) => {
      await tx.putBlocks(blocksOf(v1), rev(1))
      await tx.putRecord({ collection: POST, rkey: 'Ab', cid: v1.cid, repoRev: rev(1) })
      await tx.updateRoot(v1.cid, rev(1))
    })
    const got = await storage.repo.getRecordBlock(did, POST, 'Ab')
    expect(got?.cid.equals(v1.cid)).toBe(true)
    expect(got?.bytes).toEqual(v1.bytes)
    expect(got?.repoRev).toBe(rev(1))
    expect(await storage.repo.getRecordBlock(did, POST, 'ab')).toBeNull() // keys are exact
    expect(await storage.repo.getRecordBlock(uniqueDid(), POST, 'Ab')).toBeNull()
    // A failed commit is invisible; a committed update is seen whole (new CID with its bytes).
    await expect(
      storage.repo.transact(did, async (tx) => {
        await tx.putBlocks(blocksOf(v2), rev(2))
        await tx.putRecord({ collection: POST, rkey: 'Ab', cid: v2.cid, repoRev: rev(2) })
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    expect((await storage.repo.getRecordBlock(did, POST, 'Ab'))?.cid.equals(v1.cid)).toBe(true)
    await storage.repo.transact(did, async (tx) => {
      await tx.putBlocks(blocksOf(v2), rev(2))
      await tx.putRecord({ collection: POST, rkey: 'Ab', cid: v2.cid, repoRev: rev(2) })
      await tx.deleteBlocks([v1.cid])
    })
    const updated = await storage.repo.getRecordBlock(did, POST, 'Ab')
    expect(updated?.bytes).toEqual(v2.bytes)
    // Concurrent with writers: every answer is a whole committed version.
    const writes = (async () => {
      for (let i = 3; i < 13; i++) {
        const b = block({ v: i })
        await storage.repo.transact(did, async (tx) => {
          await tx.putBlocks(blocksOf(b), rev(i))
          await tx.putRecord({ collection: POST, rkey: 'Ab', cid: b.cid, repoRev: rev(i) })
        })
      }
    })()
    const seen = await Promise.all(Array.from({ length: 30 }, () => getRecordBlock(did, POST, 'Ab')))
    await writes
    for (const s of seen) expect(s && cidForBytes(s.bytes).equals(s.cid)).toBe(true)
  })

  it('stores blocks idempotently, reports missing ones and deletes on request', async () => {
    const { storage } = ctx
    const did = uniqueDid()
    const a = block({ a: 1 })
    const b = block({ b: 1 })
    const absent = block({ absent: true })
    await storage.repo.transact(did, (tx) => tx.putBlocks(blocksOf(a, b), rev(1)))
    await storage.repo.transact(did, (tx) => tx.putBlocks(blocksOf(a), rev(2))) // already there: kept
    await storage.repo.read(did, async (r) => {
      const { blocks, missing } = await r.getBlocks([a.cid, absent.cid, b.cid])
      expect(blocks.size).toBe(2)
      expect(blocks.get(b.cid)).toEqual(b.bytes)
      expect(missing.map(String)).toEqual([absent.cid.toString()])
      expect(await r.getBlocks([])).toMatchObject({ missing: [] })
    })
    await storage.repo.transact(did, (tx) => tx.deleteBlocks([a.cid]))
    const after = await storage.repo.read(did, (r) => r.getBlocks([a.cid, b.cid]))
    expect(after.missing.map(String)).toEqual([a.cid.toString()])
    // Blocks are per repo: another DID does not see them.
    expect((await storage.repo.read(uniqueDid(), (r) => r.getBlocks([b.cid]))).missing).toHaveLength(1)
  })

  it('deletes a replaced record block only when no record of the repo still points at it', async () => {
    const { storage } = ctx
    const did = uniqueDid()
    const other = uniqueDid()
    const shared = block({ text: 'same' })
    const solo = block({ text: 'solo' })
    const next = block({ text: 'next' })
    const missing = async (id: string, ...cids: ReturnType<typeof block>[]) =>
      (await storage.repo.read(id, (r) => r.getBlocks(cids.map((c) => c.cid)))).missing.map(String).sort()
    for (const id of [did, other]) {
      await storage.repo.transact(id, async (tx) => {
        await tx.putBlocks(blocksOf(shared, solo), rev(1))
        await tx.putRecord({ collection: POST, rkey: 'a', cid: shared.cid, repoRev: rev(1) })
        await tx.putRecord({ collection: 'app.test.other', rkey: 'b', cid: shared.cid, repoRev: rev(1) })
        await tx.putRecord({ collection: POST, rkey: 'c', cid: solo.cid, repoRev: rev(1) })
      })
    }
    // `a` goes and `c` moves to new content: `shared` stays for `b`, `solo` goes.
    await storage.repo.transact(did, async (tx) => {
      await tx.putBlocks(blocksOf(next), rev(2))
      await tx.deleteRecord(POST, 'a')
      await tx.putRecord({ collection: POST, rkey: 'c', cid: next.cid, repoRev: rev(2) })
      await tx.deleteRecordBlocks([shared.cid, solo.cid])
    })
    expect(await missing(did, shared, solo, next)).toEqual([solo.cid.toString()])
    // A record written earlier in the same transaction counts; the check runs per repo.
    await storage.repo.transact(did, async (tx) => {
      await tx.deleteRecord('app.test.other', 'b')
      await tx.putRecord({ collection: POST, rkey: 'd', cid: shared.cid, repoRev: rev(3) })
      await tx.deleteRecordBlocks([shared.cid])
    })
    expect(await missing(did, shared)).toEqual([])
    await storage.repo.transact(did, async (tx) => {
      await tx.deleteRecord(POST, 'd')
      await tx.deleteRecordBlocks([shared.cid])
    })
    expect(await missing(did, shared)).toEqual([shared.cid.toString()])
    expect(await missing(other, shared, solo)).toEqual([])
    // A failed transaction deletes nothing.
    await expect(
      storage.repo.transact(other, async (tx) => {
        await tx.deleteRecord(POST, 'c')
        await tx.deleteRecordBlocks([solo.cid])
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    expect(await missing(other, solo)).toEqual([])
    await storage.repo.transact(other, (tx) => tx.deleteRecordBlocks([]))
  })

  it('refuses writes through a reader', async () => {
    const { storage } = ctx
    const did = uniqueDid()
    const a = block({ ro: 1 })
    await expect(storage.repo.read(did, (r) => r.putBlocks(blocksOf(a)))).rejects.toThrow()
    expect((await storage.repo.read(did, (r) => r.getBlocks([a.cid]))).missing).toHaveLength(1)
  })

  it('exports the blocks written after a rev, in pages when supported', async () => {
    const { storage } = ctx
    const did = uniqueDid()
    const written: Array<ReturnType<typeof block>[]> = [[], [], []]
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < 5; i++) written[c]!.push(block({ c, i }))
      await storage.repo.transact(did, (tx) => tx.putBlocks(blocksOf(...written[c]!), rev(c + 1)))
    }
    const keys = (m: BlockMap) => m.cids().map(String).sort()
    const expected = [...written[1]!, ...written[2]!].map((b) => b.cid.toString()).sort()
    expect(keys(await storage.repo.read(did, (r) => r.blocksSince(rev(1))))).toEqual(expected)
    const pages = await storage.repo.read(did, async (r) => {
      const out: string[][] = []
      for await (const page of exportRepoBlocks(r, { since: rev(1), pageSize: 3 })) out.push(keys(page))
      return out
    })
    expect(pages.flat().sort()).toEqual(expected)
    const paged = await storage.repo.read(did, async (r) => r.exportBlocks !== undefined)
    if (paged) expect(pages.every((p) => p.length <= 3)).toBe(true)
    const everything = await storage.repo.read(did, async (r) => {
      const out: string[] = []
      for await (const page of exportRepoBlocks(r, { pageSize: 4 })) out.push(...keys(page))
      return out.sort()
    })
    expect(everything).toEqual(
      written
        .flat()
        .map((b) => b.cid.toString())
        .sort(),
    )
  })

  it('destroys one repo entirely and leaves others alone', async () => {
    const { storage } = ctx
    const [gone, kept] = [uniqueDid(), uniqueDid()]
    const rec = block({ destroy: 1 })
    for (const did of [gone, kept]) {
      await storage.repo.transact(did, async (tx) => {
        await tx.putBlocks(blocksOf(rec), rev(1))
        await tx.putRecord({ collection: POST, rkey: 'a', cid: rec.cid, repoRev: rev(1) })
        await tx.updateRoot(rec.cid, rev(1))
      })
    }
    await storage.repo.destroy(gone)
    await storage.repo.read(gone, async (r) => {
      expect(await r.getRoot()).toBeNull()
      expect(await r.countRecords()).toBe(0)
      expect((await r.getBlocks([rec.cid])).missing).toHaveLength(1)
    })
    await storage.repo.read(kept, async (r) => {
      expect((await r.getRoot())?.rev).toBe(rev(1))
      expect(await r.countRecords()).toBe(1)
      expect((await r.getBlocks([rec.cid])).missing).toHaveLength(0)
    })
  })
}
