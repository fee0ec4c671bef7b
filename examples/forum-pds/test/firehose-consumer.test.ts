// The firehose as a relay or AppView consumes it: @atproto/sync's Firehose (signature and proof checks
// on) receives every event of a mixed 2,000-write workload in order, across a disconnect and resume.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { AtpAgent } from '@atproto/api'
import { IdResolver } from '@atproto/identity'
import { type Event, Firehose, MemoryRunner } from '@atproto/sync'
import { nextRev } from '@next-atproto/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startExpressTwin } from './express-twin.js'
import type { RunningApp } from './start-app.js'

const WRITES = Number(process.env.FIREHOSE_WRITES ?? 2000)

type Op = { did: string; action: string; path: string }

describe('firehose consumed by @atproto/sync', () => {
  let app: RunningApp
  let plcRoot: Server
  let plcUrl: string
  beforeAll(async () => {
    app = await startExpressTwin()
    // @atproto/identity resolves did:plc at the root of its PLC URL (`new URL('/did', base)`), while the
    // app serves its directory under /plc: give it a root-mounted view of that directory.
    plcRoot = createServer(async (req, res) => {
      const upstream = await fetch(`${app.url}/plc${req.url}`)
      res.writeHead(upstream.status, {
        'content-type': upstream.headers.get('content-type') ?? 'application/json',
      })
      res.end(Buffer.from(await upstream.arrayBuffer()))
    })
    await new Promise<void>((resolve) => plcRoot.listen(0, '127.0.0.1', resolve))
    plcUrl = `http://127.0.0.1:${(plcRoot.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    plcRoot?.close()
    await app?.stop()
  })

  it('delivers a mixed 2,000-write workload in order, none missing or repeated, across a resume', async () => {
    const idResolver = new IdResolver({ plcUrl })
    const received: Event[] = []
    const errors: Error[] = []
    let runner: MemoryRunner | undefined
    const start = () => {
      // Resume from the runner's cursor: the last seq whose events (of every DID) were all handled.
      runner = new MemoryRunner({ startCursor: runner?.getCursor() })
      // A runner (not getCursor: @atproto/sync 0.1 passes the getCursor function itself as the cursor).
      const firehose = new Firehose({
        idResolver,
        runner,
        service: app.url.replace(/^http/, 'ws'),
        unauthenticatedHandles: true, // .test handles do not resolve through DNS
        handleEvent: async (evt) => {
          received.push(evt)
        },
        onError: (err) => errors.push(err),
      })
      firehose.start()
      return firehose
    }
    let firehose = start()
    await new Promise((r) => setTimeout(r, 300))

    const agents = await Promise.all(
      Array.from({ length: 4 }, async (_, i) => {
        const agent = new AtpAgent({ service: app.url })
        await agent.createAccount({
          handle: `fh${i}${Math.random().toString(36).slice(2, 7)}.test`,
          password: 'password-123',
        })
        return agent
      }),
    )
    const expected: Op[] = []
    const live = new Map<string, string[]>() // did -> paths present
    let writes = 0
    const collections = ['app.bsky.feed.post', 'app.bsky.feed.like', 'dev.nextatproto.forum.thread']
    // Records valid under their lexicons: the PDS validates known types on write.
    const subject = {
      uri: 'at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3jzfcijpj2z2a',
      cid: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm',
    }
    const record = (collection: string, i: number) => {
      const createdAt = new Date().toISOString()
      if (collection === 'app.bsky.feed.like') return { $type: collection, subject, createdAt, n: i } // n: an unknown field, allowed
      if (collection === 'app.bsky.feed.post') return { $type: collection, text: `w${i}`, createdAt }
      return { $type: collection, title: `w${i}`, body: `body ${i}`, createdAt }
    }
    let round = 0
    while (writes < WRITES) {
      round++
      if (round === Math.round(WRITES / 16)) {
        // Drop the connection mid-workload; writes go on; the consumer resumes from its last cursor.
        await firehose.destroy()
      }
      if (round === Math.round(WRITES / 12)) firehose = start()
      const agent = agents[round % agents.length]!
      const did = agent.session!.did
      const paths = live.get(did) ?? []
      live.set(did, paths)
      if (round % 5 === 0) {
        // A batch through applyWrites: creates, plus an update and a delete of existing records.
        const batch: Array<Record<string, unknown>> = []
        const ops: Op[] = []
        for (let k = 0; k < 8; k++) {
          const collection = collections[k % collections.length]!
          const rkey = nextRev() // every collection here has TID record keys
          batch.push({
            $type: 'com.atproto.repo.applyWrites#create',
            collection,
            rkey,
            value: record(collection, writes + k),
          })
          ops.push({ did, action: 'create', path: `${collection}/${rkey}` })
        }
        const toUpdate = paths.shift()
        if (toUpdate) {
          const [collection, rkey] = toUpdate.split('/') as [string, string]
          batch.push({
            $type: 'com.atproto.repo.applyWrites#update',
            collection,
            rkey,
            value: record(collection, -writes - 1),
          }) // distinct: a no-op update makes no op
          ops.push({ did, action: 'update', path: toUpdate })
        }
        // Never the record just updated: an update and a delete of one key in one commit is one delete.
        const toDelete = paths.shift()
        if (toUpdate) paths.push(toUpdate)
        if (toDelete) {
          const [collection, rkey] = toDelete.split('/') as [string, string]
          batch.push({ $type: 'com.atproto.repo.applyWrites#delete', collection, rkey })
          ops.push({ did, action: 'delete', path: toDelete })
        }
        await agent.com.atproto.repo.applyWrites({ repo: did, writes: batch as never })
        expected.push(...ops)
        for (const op of ops) if (op.action === 'create') paths.push(op.path)
        writes += batch.length
      } else {
        const collection = collections[round % collections.length]!
        const res = await agent.com.atproto.repo.createRecord({
          repo: did,
          collection,
          record: record(collection, writes),
        })
        const path = `${collection}/${res.data.uri.split('/').pop()}`
        expected.push({ did, action: 'create', path })
        paths.push(path)
        writes++
      }
    }

    const commitOps = () =>
      received.filter((e) => e.event === 'create' || e.event === 'update' || e.event === 'delete')
    const deadline = Date.now() + 60_000
    while (commitOps().length < expected.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100))
    await firehose.destroy()

    expect(errors).toEqual([])
    const got = commitOps().map((e) => ({
      did: e.did,
      action: e.event,
      path: `${(e as { collection: string }).collection}/${(e as { rkey: string }).rkey}`,
    }))
    const key = (o: Op) => `${o.did} ${o.action} ${o.path}`
    const gotKeys = new Set(got.map(key))
    expect(expected.filter((o) => !gotKeys.has(key(o))).map(key)).toEqual([])
    expect(got).toHaveLength(expected.length)
    for (const did of new Set(expected.map((o) => o.did))) {
      expect(got.filter((o) => o.did === did)).toEqual(expected.filter((o) => o.did === did))
    }
    // Per account, commits arrive in seq order (the runner handles accounts in parallel, so only the
    // per-account order is the consumer's to see), and each seq belongs to one account.
    for (const did of new Set(expected.map((o) => o.did))) {
      const seqs = commitOps()
        .filter((e) => e.did === did)
        .map((e) => e.seq)
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
    }
    const bySeq = new Map<number, Set<string>>()
    for (const e of received) bySeq.set(e.seq, (bySeq.get(e.seq) ?? new Set()).add(e.did))
    for (const dids of bySeq.values()) expect(dids.size).toBe(1)
  }, 240_000)
})
