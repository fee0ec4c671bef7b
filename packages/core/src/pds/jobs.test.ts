// Maintenance jobs: firehose retention (a short window; cursor replay over a real WebSocket) and blob
// garbage collection on memory and SQLite storage, including the race with a write that references the
// blob being collected.
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AtpAgent } from '@atproto/api'
import { DiskBlobStore, MemoryBlobStore, memoryAdapter, prismaAdapter } from '@next-atproto/adapters'
import { afterAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { sqliteClient } from '../../../adapters/test/clients.js'
import { type Atproto, createAtproto } from '../atproto.js'
import { CID } from '../data/cid.js'
import { createNodeWebSocket } from '../node/node-websocket.js'
import { toNodeHandler } from '../node/to-node-handler.js'
import { plcService } from '../plc/service.js'
import type { BlobStore, StorageAdapter } from '../storage/types.js'
import { decodeFrame } from '../xrpc/frames.js'
import { type PdsOptions, type PdsService, pds } from './index.js'
import { AccountSigningKey } from './signing-key.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Harness {
  app: Atproto
  service: PdsService
  url: string
  agent(): AtpAgent
  close(): Promise<void>
}

/** A PDS on a real loopback HTTP + WebSocket server. */
async function startPds(
  storage: StorageAdapter,
  blobstore: BlobStore,
  extra: Partial<PdsOptions> = {},
): Promise<Harness> {
  const server: Server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const service = pds({
    storage,
    blobstore,
    jwtSecret: 'x'.repeat(32),
    handleDomains: ['.test'],
    plcUrl: `${url}/plc`,
    plcRotationKey: AccountSigningKey.generate(),
    rateLimits: false,
    jobs: false, // the tests run the jobs themselves
    fetch: (input, init) => app.fetch(new Request(input as string, init)),
    ...extra,
  })
  const app: Atproto = createAtproto({
    publicUrl: url,
    services: [plcService({ store: storage.plc! }), service],
  })
  server.on('request', toNodeHandler(app))
  const ws = createNodeWebSocket(app)
  ws.injectWebSocket(server)
  await app.start()
  return {
    app,
    service,
    url,
    agent: () => new AtpAgent({ service: url }),
    async close() {
      await ws.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await app.close()
    },
  }
}

async function newAccount(h: Harness): Promise<{ agent: AtpAgent; did: string }> {
  const agent = h.agent()
  const name = `j${Math.random().toString(36).slice(2, 9)}`
  const res = await agent.createAccount({ handle: `${name}.test`, password: 'password-1' })
  return { agent, did: res.data.did }
}

const post = (text: string, extra: Record<string, unknown> = {}) => ({
  $type: 'app.bsky.feed.post',
  text,
  createdAt: new Date().toISOString(),
  ...extra,
})

/** Frames of a subscription from `cursor` until `done(frames)` holds. */
async function replay(
  url: string,
  cursor: number,
  done: (frames: ReturnType<typeof decodeFrame>[]) => boolean,
): Promise<ReturnType<typeof decodeFrame>[]> {
  const ws = new WebSocket(
    `${url.replace(/^http/, 'ws')}/xrpc/com.atproto.sync.subscribeRepos?cursor=${cursor}`,
  )
  const frames: ReturnType<typeof decodeFrame>[] = []
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out with ${JSON.stringify(frames)}`)), 20_000)
    ws.on('message', (data: Buffer) => {
      frames.push(decodeFrame(new Uint8Array(data)))
      if (done(frames)) {
        clearTimeout(timer)
        resolve()
      }
    })
    ws.on('close', () => {
      clearTimeout(timer)
      resolve()
    })
    ws.on('error', reject)
  })
  ws.close()
  return frames
}

const seqOf = (f: ReturnType<typeof decodeFrame>) =>
  f.op === 1 ? (f.body.seq as number | undefined) : undefined

/** Storage backends of the blob GC tests; `beforeDelete` runs once before the next blob row delete. */
interface GcBackend {
  name: string
  make(): Promise<{
    storage: StorageAdapter
    blobstore: BlobStore
    hook?: { beforeDelete: (() => Promise<void>) | null }
    cleanup(): Promise<void>
  }>
}

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const backends: GcBackend[] = [
  {
    name: 'memory',
    async make() {
      return { storage: memoryAdapter(), blobstore: new MemoryBlobStore(), cleanup: async () => {} }
    },
  },
  {
    name: 'prisma sqlite + disk blobs',
    async make() {
      const dir = mkdtempSync(join(tmpdir(), 'atproto-gc-'))
      dirs.push(dir)
      const raw = sqliteClient(`file:${join(dir, 'gc.db')}`)
      // The user's client, seen through a proxy that can pause right before a blob row is deleted: the
      // moment between the collector's selection and its delete, where a concurrent write can land.
      const hook: { beforeDelete: (() => Promise<void>) | null } = { beforeDelete: null }
      const client = new Proxy(raw, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target)
          if (prop !== 'atprotoBlob') return typeof value === 'function' ? value.bind(target) : value
          return new Proxy(value, {
            get(delegate, method) {
              const fn = Reflect.get(delegate, method, delegate)
              if (method !== 'deleteMany') return typeof fn === 'function' ? fn.bind(delegate) : fn
              return async (args: unknown) => {
                const pause = hook.beforeDelete
                hook.beforeDelete = null
                if (pause) await pause()
                return fn.call(delegate, args)
              }
            },
          })
        },
      })
      const storage = prismaAdapter(client, { provider: 'sqlite' })
      await storage.migrate()
      return {
        storage,
        blobstore: new DiskBlobStore({ location: join(dir, 'blobs') }),
        hook,
        cleanup: () => storage.close(),
      }
    },
  },
]

const bytesOf = (s: string) => new TextEncoder().encode(s)

/** `storage` whose next repo transaction first runs `hook.beforeCommit` (a write paused after its blob check). */
function withCommitHook(storage: StorageAdapter) {
  const hook: { beforeCommit: (() => Promise<void>) | null } = { beforeCommit: null }
  const bind = (target: object, prop: string | symbol) => {
    const value = Reflect.get(target, prop, target)
    return typeof value === 'function' ? value.bind(target) : value
  }
  const repo = new Proxy(storage.repo, {
    get(target, prop) {
      if (prop !== 'transact') return bind(target, prop)
      return async (did: string, fn: never) => {
        const pause = hook.beforeCommit
        hook.beforeCommit = null
        if (pause) await pause()
        return target.transact(did, fn)
      }
    },
  })
  return { storage: new Proxy(storage, { get: (t, p) => (p === 'repo' ? repo : bind(t, p)) }), hook }
}

for (const backend of backends) {
  describe(`blob garbage collection: ${backend.name}`, () => {
    it('deletes idle uploads and unreferenced blobs (metadata and bytes), keeps referenced ones', async () => {
      const b = await backend.make()
      const h = await startPds(b.storage, b.blobstore, {
        jobs: { tempBlobTtlMs: 3600_000, blobGraceMs: 600_000 },
      })
      try {
        const { agent, did } = await newAccount(h)
        const other = await newAccount(h)
        const upload = async (a: AtpAgent, s: string) =>
          (await a.uploadBlob(bytesOf(s), { encoding: 'image/png' })).data.blob
        const unused = await upload(agent, `unused ${did}`)
        const kept = await upload(agent, `kept ${did}`)
        const dropped = await upload(agent, `dropped ${did}`)
        const shared = await upload(agent, `shared ${did}`)
        await upload(other.agent, `shared ${did}`) // the same bytes, held by another account too
        const attach = (a: AtpAgent, repo: string, blob: unknown) =>
          a.com.atproto.repo.createRecord({
            repo,
            collection: 'app.bsky.feed.post',
            record: post('with a blob', {
              embed: { $type: 'app.bsky.embed.images', images: [{ image: blob, alt: '' }] },
            }),
          })
        await attach(agent, did, kept)
        const d = await attach(agent, did, dropped)
        const s = await attach(agent, did, shared)
        await attach(other.agent, other.did, shared)
        const unusedRow = (await b.storage.blobs.get(did, CID.parse(unused.ref.toString())))!
        expect(unusedRow.tempKey).not.toBeNull()
        for (const uri of [d.data.uri, s.data.uri]) {
          await agent.com.atproto.repo.deleteRecord({
            repo: did,
            collection: 'app.bsky.feed.post',
            rkey: uri.split('/').pop()!,
          })
        }
        // Inside the TTL and grace period nothing goes; two hours later (the job's clock) they do.
        expect((await h.service.jobs.collectBlobs()).rows).toBe(0)
        const result = await h.service.jobs.collectBlobs(new Date(Date.now() + 2 * 3600_000))
        // Rows: unused, dropped, and this account's row of the shared bytes. Permanent bytes: dropped
        // (the unused upload only ever was a temporary object, deleted with its row).
        expect(result).toMatchObject({ rows: 3, bytes: 1 })

        const cid = (blob: { ref: { toString(): string } }) => CID.parse(blob.ref.toString())
        expect(await b.storage.blobs.get(did, cid(unused))).toBeNull()
        expect(await b.blobstore.hasTemp(unusedRow.tempKey!)).toBe(false)
        expect(await b.storage.blobs.get(did, cid(dropped))).toBeNull()
        expect(await b.blobstore.get(cid(dropped))).toBeNull()
        // Still referenced: listed and served.
        expect(await b.storage.blobs.get(did, cid(kept))).not.toBeNull()
        const listed = await agent.com.atproto.sync.listBlobs({ did })
        expect(listed.data.cids).toEqual([kept.ref.toString()])
        expect((await agent.com.atproto.sync.getBlob({ did, cid: kept.ref.toString() })).data).toEqual(
          bytesOf(`kept ${did}`),
        )
        // The shared bytes stay for the other account, which still references them.
        expect(await b.storage.blobs.get(did, cid(shared))).toBeNull()
        const theirs = await other.agent.com.atproto.sync.getBlob({
          did: other.did,
          cid: shared.ref.toString(),
        })
        expect(theirs.data).toEqual(bytesOf(`shared ${did}`))
      } finally {
        await h.close()
        await b.cleanup()
      }
    })

    it('a write that references a blob being collected either keeps it or is refused, never half', {
      timeout: 60_000,
    }, async () => {
      const b = await backend.make()
      const paused = withCommitHook(b.storage)
      const h = await startPds(paused.storage, b.blobstore, {
        jobs: { tempBlobTtlMs: 1000, blobGraceMs: 1000 },
      })
      try {
        const { agent, did } = await newAccount(h)
        const create = (blob: unknown) =>
          agent.com.atproto.repo.createRecord({
            repo: did,
            collection: 'app.bsky.feed.post',
            record: post('racing', {
              embed: { $type: 'app.bsky.embed.images', images: [{ image: blob, alt: '' }] },
            }),
          })
        /** The invariant: the record exists iff the blob does, with its bytes served. */
        const check = async (
          blob: { ref: { toString(): string } },
          outcome: 'written' | 'refused',
          uri?: string,
        ) => {
          const c = CID.parse(blob.ref.toString())
          const row = await b.storage.blobs.get(did, c)
          if (outcome === 'written') {
            expect(row?.tempKey).toBeNull()
            expect(
              (await agent.com.atproto.sync.getBlob({ did, cid: c.toString() })).data.byteLength,
            ).toBeGreaterThan(0)
            const rkey = uri!.split('/').pop()!
            expect(
              (await agent.com.atproto.repo.getRecord({ repo: did, collection: 'app.bsky.feed.post', rkey }))
                .data.uri,
            ).toBe(uri)
          } else {
            expect(row).toBeNull()
          }
        }
        const upload = async (s: string) =>
          (await agent.uploadBlob(bytesOf(s), { encoding: 'image/png' })).data.blob

        // Collector first: the write then finds no blob and commits nothing.
        const idle = 1200 // past the TTL and grace
        const gone = await upload(`gone ${did}`)
        await sleep(idle)
        await h.service.jobs.collectBlobs()
        await expect(create(gone)).rejects.toMatchObject({ error: 'BlobNotFound' })
        await check(gone, 'refused')
        const records = await agent.com.atproto.repo.listRecords({
          repo: did,
          collection: 'app.bsky.feed.post',
        })
        expect(records.data.records).toEqual([])

        if (b.hook) {
          // The collector has selected the idle upload; the write claims and commits before the delete runs.
          const raced = await upload(`raced ${did}`)
          await sleep(idle)
          let written: { data: { uri: string } } | undefined
          b.hook.beforeDelete = async () => {
            written = await create(raced)
          }
          const result = await h.service.jobs.collectBlobs()
          expect(written).toBeDefined()
          expect(result.rows).toBe(0)
          await check(raced, 'written', written!.data.uri)
        }

        // The write has checked (claimed) its blob; a whole collection runs before it commits. The claim
        // renewed the lease, so the blob stays and the write lands with it.
        const claimed = await upload(`claimed ${did}`)
        await sleep(idle)
        let collected: Awaited<ReturnType<typeof h.service.jobs.collectBlobs>> | undefined
        paused.hook.beforeCommit = async () => {
          collected = await h.service.jobs.collectBlobs()
        }
        const landed = await create(claimed)
        expect(collected?.rows).toBe(0)
        await check(claimed, 'written', landed.data.uri)

        // Concurrent, with varying offsets: every outcome satisfies the invariant.
        for (let i = 0; i < 4; i++) {
          const blob = await upload(`loop ${i} ${did}`)
          await sleep(idle)
          const [write] = await Promise.allSettled([
            sleep(i * 4).then(() => create(blob)),
            sleep((3 - i) * 4).then(() => h.service.jobs.collectBlobs()),
          ])
          if (write.status === 'fulfilled') await check(blob, 'written', write.value.data.uri)
          else {
            expect(write.reason).toMatchObject({ error: 'BlobNotFound' })
            await check(blob, 'refused')
          }
        }
      } finally {
        await h.close()
        await b.cleanup()
      }
    })
  })
}

for (const backend of backends) {
  describe(`firehose retention: ${backend.name}`, () => {
    it('replays from the oldest event in the window after an #info OutdatedCursor, before and after pruning', {
      timeout: 60_000,
    }, async () => {
      const b = await backend.make()
      const storage = b.storage
      const h = await startPds(storage, b.blobstore, { firehoseRetentionMs: 2000 })
      try {
        const { agent, did } = await newAccount(h)
        for (let i = 0; i < 3; i++) {
          await agent.com.atproto.repo.createRecord({
            repo: did,
            collection: 'app.bsky.feed.post',
            record: post(`old ${i}`),
          })
        }
        const oldLatest = (await storage.sequencer.latest())!
        await sleep(2500) // everything so far is now outside the window
        for (let i = 0; i < 2; i++) {
          await agent.com.atproto.repo.createRecord({
            repo: did,
            collection: 'app.bsky.feed.post',
            record: post(`new ${i}`),
          })
        }
        const latest = (await storage.sequencer.latest())!
        const retained = [oldLatest + 1, oldLatest + 2]
        expect(latest).toBe(oldLatest + 2)
        const untilLatest = (fs: ReturnType<typeof decodeFrame>[]) => fs.some((f) => seqOf(f) === latest)

        // Not pruned yet: old events are still stored, but out of the window all the same.
        const before = await replay(h.url, 0, untilLatest)
        expect(before[0]).toMatchObject({ op: 1, t: '#info', body: { name: 'OutdatedCursor' } })
        expect(before.slice(1).map(seqOf)).toEqual(retained)

        // The job deletes what is outside the window, in storage.
        expect(await h.service.jobs.pruneFirehose()).toBe(oldLatest)
        expect(await storage.sequencer.earliest()).toBe(oldLatest + 1)
        const after = await replay(h.url, 2, untilLatest)
        expect(after[0]).toMatchObject({ op: 1, t: '#info', body: { name: 'OutdatedCursor' } })
        expect(after.slice(1).map(seqOf)).toEqual(retained)

        // A cursor inside the window replays without a notice; the newest cursor replays nothing.
        const inside = await replay(h.url, oldLatest + 1, untilLatest)
        expect(inside.map(seqOf)).toEqual([latest])
        // A cursor past the end is still a FutureCursor error.
        const future = await replay(h.url, latest + 100, (fs) => fs.length > 0)
        expect(future[0]).toMatchObject({ op: -1, body: { error: 'FutureCursor' } })

        // Once everything is older than the window, pruning keeps the newest event (the log's position).
        await sleep(2500)
        expect(await h.service.jobs.pruneFirehose()).toBe(1)
        expect(await storage.sequencer.earliest()).toBe(latest)
        const [info, ...rest] = await replay(h.url, 1, (fs) => fs.length >= 1)
        expect(info).toMatchObject({ op: 1, t: '#info', body: { name: 'OutdatedCursor' } })
        expect(rest).toEqual([])
      } finally {
        await h.close()
        await b.cleanup()
      }
    })
  })
}
