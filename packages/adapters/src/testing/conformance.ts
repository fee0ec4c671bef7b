/**
 * The storage contract as a test suite: any adapter, including a user's own, runs it with
 * `runStorageConformance({ name, create })` inside a vitest file.
 */
import { BlockMap, cidForBytes, encodeCbor, type StorageAdapter } from '@next-atproto/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/** Options of {@link runStorageConformance}. */
export interface StorageConformanceOptions {
  name: string
  /** A fresh, migrated, empty adapter. */
  create: () => Promise<StorageAdapter>
  /** Release what `create` made (drop databases, delete files). */
  cleanup?: (adapter: StorageAdapter) => Promise<void>
}

const block = (value: unknown) => {
  const bytes = encodeCbor(value)
  return { cid: cidForBytes(bytes), bytes }
}
const body = (n: number) => encodeCbor({ n })
let counter = 0
const uniqueDid = () =>
  `did:plc:test${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 8)}`

/** Register the storage contract tests for one adapter. */
export function runStorageConformance(options: StorageConformanceOptions): void {
  describe(`storage contract: ${options.name}`, () => {
    let storage: StorageAdapter
    beforeAll(async () => {
      storage = await options.create()
      await storage.check()
    })
    afterAll(async () => {
      if (!storage) return
      await options.cleanup?.(storage)
      await storage.close()
    })

    it('commits blocks, record rows, root and events together', async () => {
      const did = uniqueDid()
      const rec = block({ text: 'hello' })
      const before = (await storage.sequencer.latest()) ?? 0
      await storage.repo.transact(did, async (tx) => {
        await tx.putBlocks(new BlockMap().set(rec.cid, rec.bytes), 'rev1')
        await tx.putRecord({ collection: 'app.test.post', rkey: 'a', cid: rec.cid, repoRev: 'rev1' })
        await tx.updateRoot(rec.cid, 'rev1')
        await tx.sequence([{ did, type: 'commit', body: body(1) }])
      })
      await storage.repo.read(did, async (r) => {
        expect((await r.getRoot())?.rev).toBe('rev1')
        expect((await r.getRecord('app.test.post', 'a'))?.cid.equals(rec.cid)).toBe(true)
        const { blocks, missing } = await r.getBlocks([rec.cid])
        expect(missing).toEqual([])
        expect(blocks.get(rec.cid)).toEqual(rec.bytes)
      })
      const events = await storage.sequencer.range({ after: before, limit: 10 })
      expect(events.filter((e) => e.did === did)).toHaveLength(1)
    })

    it('leaves nothing behind when a commit fails midway', async () => {
      const did = uniqueDid()
      const rec = block({ text: 'doomed' })
      const before = await storage.sequencer.latest()
      await expect(
        storage.repo.transact(did, async (tx) => {
          await tx.putBlocks(new BlockMap().set(rec.cid, rec.bytes), 'rev1')
          await tx.putRecord({ collection: 'app.test.post', rkey: 'a', cid: rec.cid, repoRev: 'rev1' })
          await tx.updateRoot(rec.cid, 'rev1')
          await tx.sequence([{ did, type: 'commit', body: body(2) }])
          throw new Error('boom')
        }),
      ).rejects.toThrow('boom')
      await storage.repo.read(did, async (r) => {
        expect(await r.getRoot()).toBeNull()
        expect(await r.getRecord('app.test.post', 'a')).toBeNull()
        expect((await r.getBlocks([rec.cid])).missing).toHaveLength(1)
      })
      expect(await storage.sequencer.latest()).toBe(before)
    })

    it('serializes concurrent writers on one DID (no lost root update)', async () => {
      const did = uniqueDid()
      const rec = block({ n: 0 })
      await Promise.all(
        Array.from({ length: 10 }, () =>
          storage.repo.transact(did, async (tx) => {
            const root = await tx.getRoot()
            const next = String(Number(root?.rev ?? '0') + 1).padStart(4, '0')
            await new Promise((r) => setTimeout(r, 2))
            await tx.updateRoot(rec.cid, next)
          }),
        ),
      )
      expect((await storage.repo.read(did, (r) => r.getRoot()))?.rev).toBe('0010')
    })

    it('lets exactly one of many concurrent consumers use a single-use token', async () => {
      const did = uniqueDid()
      await storage.accounts.create({
        did,
        handle: `${did.slice(8)}.test`,
        email: null,
        passwordHash: null,
        signingKey: new Uint8Array(32),
        status: 'active',
      })
      await storage.accounts.createEmailToken({
        did,
        purpose: 'reset',
        token: `t-${did}`,
        expiresAt: new Date(Date.now() + 60_000),
      })
      const results = await Promise.all(
        Array.from({ length: 8 }, () => storage.accounts.consumeEmailToken('reset', `t-${did}`)),
      )
      expect(results.filter((r) => r === did)).toHaveLength(1)
      await storage.accounts.createRefreshToken({
        id: `r-${did}`,
        did,
        appPasswordName: null,
        expiresAt: new Date(Date.now() + 60_000),
        nextId: null,
      })
      const rotations = await Promise.all(
        Array.from({ length: 8 }, (_, i) => storage.accounts.rotateRefreshToken(`r-${did}`, `n${i}`)),
      )
      expect(rotations.filter(Boolean)).toHaveLength(1)
    })

    it('refuses a second account with the same handle', async () => {
      const did = uniqueDid()
      const handle = `${did.slice(8)}.test`
      const row = {
        did,
        handle,
        email: null,
        passwordHash: null,
        signingKey: new Uint8Array(32),
        status: 'active' as const,
      }
      await storage.accounts.create(row)
      await expect(storage.accounts.create({ ...row, did: uniqueDid() })).rejects.toMatchObject({
        name: 'UniqueConstraintError',
        field: 'handle',
      })
      expect((await storage.accounts.getByHandle(handle))?.did).toBe(did)
    })

    it('orders the firehose log with no gaps under concurrent appends', async () => {
      const start = (await storage.sequencer.latest()) ?? 0
      const dids = Array.from({ length: 12 }, uniqueDid)
      await Promise.all([
        ...dids
          .slice(0, 6)
          .map((did, i) => storage.sequencer.append([{ did, type: 'identity', body: body(i) }])),
        ...dids.slice(6).map((did, i) =>
          storage.repo.transact(did, async (tx) => {
            await tx.sequence([{ did, type: 'account', body: body(i) }])
          }),
        ),
      ])
      const rows = await storage.sequencer.range({ after: start, limit: 100 })
      const mine = rows.filter((r) => dids.includes(r.did))
      expect(mine).toHaveLength(12)
      for (let i = 1; i < rows.length; i++) expect(rows[i]!.seq).toBeGreaterThan(rows[i - 1]!.seq)
      // Reading in small pages from any cursor sees the same sequence.
      const paged = []
      let cursor = start
      for (;;) {
        const page = await storage.sequencer.range({ after: cursor, limit: 5 })
        if (page.length === 0) break
        paged.push(...page)
        cursor = page.at(-1)!.seq
      }
      expect(paged.map((r) => r.seq)).toEqual(rows.map((r) => r.seq))
    })

    it('pages records stably by rkey, both directions, while records are added', async () => {
      const did = uniqueDid()
      const rec = block({ r: 1 })
      const rkeys = Array.from({ length: 9 }, (_, i) => `k${i}`)
      await storage.repo.transact(did, async (tx) => {
        await tx.putBlocks(new BlockMap().set(rec.cid, rec.bytes), 'r1')
        for (const rkey of rkeys)
          await tx.putRecord({ collection: 'app.test.like', rkey, cid: rec.cid, repoRev: 'r1' })
      })
      const page1 = await storage.repo.read(did, (r) => r.listRecords('app.test.like', { limit: 4 }))
      expect(page1.map((r) => r.rkey)).toEqual(['k8', 'k7', 'k6', 'k5'])
      await storage.repo.transact(did, (tx) =>
        tx.putRecord({ collection: 'app.test.like', rkey: 'k9', cid: rec.cid, repoRev: 'r2' }),
      )
      const page2 = await storage.repo.read(did, (r) =>
        r.listRecords('app.test.like', { limit: 10, cursor: 'k5' }),
      )
      expect(page2.map((r) => r.rkey)).toEqual(['k4', 'k3', 'k2', 'k1', 'k0'])
      const forward = await storage.repo.read(did, (r) =>
        r.listRecords('app.test.like', { limit: 3, reverse: true, cursor: 'k2' }),
      )
      expect(forward.map((r) => r.rkey)).toEqual(['k3', 'k4', 'k5'])
      expect(await storage.repo.read(did, (r) => r.listCollections())).toEqual(['app.test.like'])
      expect(await storage.repo.read(did, (r) => r.countRecords())).toBe(10)
    })

    it('counts rate-limit hits atomically', async () => {
      const key = `rl-${uniqueDid()}`
      const hits = await Promise.all(Array.from({ length: 10 }, () => storage.rateLimits.hit(key, 60_000)))
      expect(hits.map((h) => h.count).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    })
  })
}
