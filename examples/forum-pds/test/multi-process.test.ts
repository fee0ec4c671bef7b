import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AtpAgent } from '@atproto/api'
import { verifySignature } from '@atproto/crypto'
import { prismaAdapter } from '@next-atproto/adapters'
import { AccountSigningKey, type CID, decodeFrame, readCarBytes, verifyCommitProof } from '@next-atproto/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { postgresClient, sqliteClient } from '../../../packages/adapters/test/clients.js'
import {
  createPostgresDatabase,
  postgresAvailable,
  type TestDatabase,
} from '../../../packages/adapters/test/databases.js'
import { freePort, spawnServer } from './start-app.js'

const script = fileURLToPath(new URL('./pds-process.ts', import.meta.url))
const secrets = {
  JWT_SECRET: randomBytes(32).toString('hex'),
  PLC_ROTATION_KEY: Buffer.from(AccountSigningKey.generate().privateKey).toString('hex'),
  SERVICE_DID: 'did:web:pds.multi.test',
}

interface Proc {
  url: string
  stop(): Promise<void>
}

async function startProcess(databaseUrl: string, listen: boolean, provider = 'postgresql'): Promise<Proc> {
  const port = await freePort()
  return spawnServer({
    name: 'pds process',
    script,
    env: {
      ...secrets,
      PROVIDER: provider,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      LISTEN: listen ? '1' : '0',
    },
    timeoutMs: 90_000,
  })
}

interface Received {
  seq: number
  t: string
  body: Record<string, any>
  raw: string
  at: number
}

/** A subscribeRepos client that keeps every frame with its arrival time. */
function firehose(url: string, cursor?: number) {
  const ws = new WebSocket(
    `${url.replace(/^http/, 'ws')}/xrpc/com.atproto.sync.subscribeRepos${cursor === undefined ? '' : `?cursor=${cursor}`}`,
  )
  const events: Received[] = []
  const bySeq = new Map<number, Received>()
  const errors: unknown[] = []
  ws.on('message', (data: Buffer) => {
    const at = performance.now()
    const frame = decodeFrame(new Uint8Array(data))
    if (frame.op !== 1) return void errors.push(frame.body)
    const event = {
      seq: frame.body.seq as number,
      t: frame.t ?? '',
      body: frame.body,
      raw: data.toString('hex'),
      at,
    }
    events.push(event)
    bySeq.set(event.seq, event)
  })
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  return {
    events,
    bySeq,
    errors,
    opened,
    async waitForSeq(seq: number, ms = 60_000) {
      const deadline = Date.now() + ms
      while ((events.at(-1)?.seq ?? 0) < seq) {
        if (Date.now() > deadline)
          throw new Error(`timed out at seq ${events.at(-1)?.seq} waiting for ${seq}`)
        await new Promise((r) => setTimeout(r, 5))
      }
    },
    close: () => ws.close(),
  }
}

const post = (text: string) => ({ $type: 'app.bsky.feed.post', text, createdAt: new Date().toISOString() })
const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!
}

/** Sequential writes alternating between the processes; latency to the *other* process's firehose. */
async function measureLatency(
  procs: [Proc, Proc],
  agents: Array<[AtpAgent, AtpAgent]>,
  hoses: [ReturnType<typeof firehose>, ReturnType<typeof firehose>],
  samples: number,
): Promise<{ returned: number[]; sent: number[] }> {
  const out = { returned: [] as number[], sent: [] as number[] }
  for (let i = 0; i < samples; i++) {
    const from = i % 2
    const agent = agents[i % agents.length]![from]!
    // Idle gaps of varying length, so samples fall at every phase of a poll interval.
    await new Promise((r) => setTimeout(r, 20 + ((i * 37) % 80)))
    const sent = performance.now()
    const res = await agent.com.atproto.repo.createRecord({
      repo: agent.session!.did,
      collection: 'app.bsky.feed.post',
      record: post(`latency ${i}`),
    })
    const returned = performance.now()
    const other = hoses[1 - from]!
    const deadline = Date.now() + 30_000
    let got: Received | undefined
    while (
      !(got = other.events.findLast(
        (e) => e.t === '#commit' && e.body.rev === res.data.commit.rev && e.body.repo === agent.session!.did,
      ))
    ) {
      if (Date.now() > deadline)
        throw new Error(`event of ${res.data.uri} never reached ${procs[1 - from]!.url}`)
      await new Promise((r) => setTimeout(r, 1))
    }
    // The event may reach the other process's subscriber before this client has parsed the response.
    out.returned.push(Math.max(0, got.at - returned))
    out.sent.push(got.at - sent)
  }
  return out
}

describe.runIf(await postgresAvailable())('two app processes over one PostgreSQL', () => {
  let db: TestDatabase
  let procs: Proc[] = []
  const figures: Record<string, { returned: number[]; sent: number[] }> = {}

  beforeAll(async () => {
    db = await createPostgresDatabase()
    const storage = prismaAdapter(postgresClient(db.url), { provider: 'postgresql', listen: false })
    await storage.migrate()
    await storage.close()
  })
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()))
    await db?.drop()
    const line = (xs: number[]) =>
      `p50 ${percentile(xs, 50).toFixed(1)} ms, p99 ${percentile(xs, 99).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms`
    for (const [mode, { returned, sent }] of Object.entries(figures)) {
      const early = returned.filter((x) => x === 0).length
      console.log(
        `cross-process firehose latency, ${mode} (${returned.length} writes): write returned -> event on the other process ${line(returned)} (${early} arrived before the response); write sent -> event ${line(sent)}`,
      )
    }
  })

  it('each process serves the same ordered log of concurrent writes to both, each commit verifiable', {
    timeout: 300_000,
  }, async () => {
    procs = await Promise.all([startProcess(db.url, true), startProcess(db.url, true)])
    const [a, b] = procs as [Proc, Proc]
    const hoses = [firehose(a.url), firehose(b.url)] as const
    await Promise.all(hoses.map((h) => h.opened))

    // Several accounts, created on either process, each signed in on both.
    const accounts: Array<[AtpAgent, AtpAgent]> = []
    for (let i = 0; i < 4; i++) {
      const handle = `m${i}${randomBytes(3).toString('hex')}.test`
      const creator = new AtpAgent({ service: procs[i % 2]!.url })
      await creator.createAccount({ handle, password: 'password-123' })
      const other = new AtpAgent({ service: procs[(i + 1) % 2]!.url })
      await other.login({ identifier: handle, password: 'password-123' })
      accounts.push(i % 2 === 0 ? [creator, other] : [other, creator])
    }

    // Per account, one writer through each process at the same time: creates, updates and deletes.
    const perWriter = 12
    await Promise.all(
      accounts.flatMap((pair, n) =>
        pair.map(async (agent, side) => {
          const did = agent.session!.did
          const mine: string[] = []
          for (let i = 0; i < perWriter; i++) {
            if (i % 4 === 3 && mine.length > 0) {
              await agent.com.atproto.repo.deleteRecord({
                repo: did,
                collection: 'app.bsky.feed.post',
                rkey: mine.pop()!,
              })
            } else if (i % 4 === 2 && mine.length > 0) {
              await agent.com.atproto.repo.putRecord({
                repo: did,
                collection: 'app.bsky.feed.post',
                rkey: mine.at(-1)!,
                record: post(`edited ${n}/${side}/${i}`),
              })
            } else {
              const res = await agent.com.atproto.repo.createRecord({
                repo: did,
                collection: 'app.bsky.feed.post',
                record: post(`post ${n}/${side}/${i}`),
              })
              mine.push(res.data.uri.split('/').pop()!)
            }
          }
        }),
      ),
    )

    // The whole log, as the database holds it.
    const reader = prismaAdapter(postgresClient(db.url), { provider: 'postgresql', listen: false })
    const latest = (await reader.sequencer.latest())!
    const log = await reader.sequencer.range({ after: 0, limit: 10_000 })
    await reader.close()
    await Promise.all(hoses.map((h) => h.waitForSeq(latest)))
    for (const h of hoses) h.close()

    // One ordered log, no gaps or repeats, identical on both processes and equal to the database's.
    const seqs = log.map((r) => r.seq)
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0]! + i))
    const commits = log.filter((r) => r.type === 'commit').length
    expect(commits).toBe(accounts.length * 2 * perWriter)
    for (const h of hoses) {
      expect(h.errors).toEqual([])
      expect(h.events.map((e) => e.seq)).toEqual(seqs)
    }
    expect(hoses[0].events.map((e) => e.raw)).toEqual(hoses[1].events.map((e) => e.raw))
    expect(hoses[0].events.map((e) => e.t)).toEqual(log.map((r) => `#${r.type}`))

    // Every #commit verifies by inversion against its proof blocks and chains on the repo's previous one.
    const keys = new Map<string, string>()
    for (const [agent] of accounts) {
      const doc = (await agent.com.atproto.repo.describeRepo({ repo: agent.session!.did })).data.didDoc as {
        verificationMethod: Array<{ publicKeyMultibase: string }>
      }
      keys.set(agent.session!.did, `did:key:${doc.verificationMethod[0]!.publicKeyMultibase}`)
    }
    const heads = new Map<string, { rev: string; data: string }>()
    for (const e of hoses[1].events) {
      if (e.t !== '#commit') continue
      const { blocks, roots } = readCarBytes(e.body.blocks)
      expect(roots[0]!.equals(e.body.commit)).toBe(true)
      const { commit } = await verifyCommitProof({
        blocks,
        commit: e.body.commit as CID,
        ops: e.body.ops,
        prevData: e.body.prevData ?? null,
        didKey: keys.get(e.body.repo),
        verify: (key, msg, sig) => verifySignature(key, msg, sig),
      })
      const head = heads.get(e.body.repo)
      if (head) {
        expect(e.body.since).toBe(head.rev)
        expect(e.body.prevData.toString()).toBe(head.data)
      }
      heads.set(e.body.repo, { rev: e.body.rev, data: commit.data.toString() })
    }
    expect(heads.size).toBe(accounts.length)

    // Replay from the start on one process gives the same log again.
    const replay = firehose(b.url, 0)
    await replay.waitForSeq(latest)
    replay.close()
    expect(replay.events.map((e) => e.raw)).toEqual(hoses[0].events.map((e) => e.raw))

    // Latency with LISTEN/NOTIFY (live subscribers on both sides).
    const live = [firehose(a.url), firehose(b.url)] as const
    await Promise.all(live.map((h) => h.opened))
    figures['LISTEN/NOTIFY'] = await measureLatency([a, b], accounts, live, 100)
    for (const h of live) h.close()
  })

  it('polling only (listen: false) still serves the same log, at poll latency', {
    timeout: 300_000,
  }, async () => {
    await Promise.all(procs.map((p) => p.stop()))
    procs = await Promise.all([startProcess(db.url, false), startProcess(db.url, false)])
    const [a, b] = procs as [Proc, Proc]
    const hoses = [firehose(a.url), firehose(b.url)] as const
    await Promise.all(hoses.map((h) => h.opened))
    const accounts: Array<[AtpAgent, AtpAgent]> = []
    for (let i = 0; i < 2; i++) {
      const handle = `p${i}${randomBytes(3).toString('hex')}.test`
      const creator = new AtpAgent({ service: a.url })
      await creator.createAccount({ handle, password: 'password-123' })
      const other = new AtpAgent({ service: b.url })
      await other.login({ identifier: handle, password: 'password-123' })
      accounts.push([creator, other])
    }
    figures['poll only'] = await measureLatency([a, b], accounts, hoses, 60)
    const reader = prismaAdapter(postgresClient(db.url), { provider: 'postgresql', listen: false })
    const latest = (await reader.sequencer.latest())!
    await reader.close()
    await Promise.all(hoses.map((h) => h.waitForSeq(latest)))
    for (const h of hoses) h.close()
    expect(hoses[0].events.length).toBeGreaterThan(60)
    expect(hoses[0].events.map((e) => e.raw)).toEqual(hoses[1].events.map((e) => e.raw))
  })
})

describe('two app processes over one SQLite file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'atproto-multi-sqlite-'))
  const url = `file:${join(dir, 'shared.db')}`
  let procs: Proc[] = []
  let figures: { returned: number[]; sent: number[] } | undefined
  beforeAll(async () => {
    const storage = prismaAdapter(sqliteClient(url), { provider: 'sqlite' })
    await storage.migrate()
    await storage.close()
  })
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()))
    rmSync(dir, { recursive: true, force: true })
    if (figures) {
      const line = (xs: number[]) =>
        `p50 ${percentile(xs, 50).toFixed(1)} ms, p99 ${percentile(xs, 99).toFixed(1)} ms`
      console.log(
        `cross-process firehose latency, SQLite PRAGMA data_version (${figures.returned.length} writes): write returned -> event on the other process ${line(figures.returned)}; write sent -> event ${line(figures.sent)}`,
      )
    }
  })

  it('each process serves the same log of writes sent to both, woken by the data_version check', {
    timeout: 300_000,
  }, async () => {
    procs = await Promise.all([startProcess(url, true, 'sqlite'), startProcess(url, true, 'sqlite')])
    const [a, b] = procs as [Proc, Proc]
    const hoses = [firehose(a.url), firehose(b.url)] as const
    await Promise.all(hoses.map((h) => h.opened))
    const accounts: Array<[AtpAgent, AtpAgent]> = []
    for (let i = 0; i < 2; i++) {
      const handle = `q${i}${randomBytes(3).toString('hex')}.test`
      const creator = new AtpAgent({ service: procs[i]!.url })
      await creator.createAccount({ handle, password: 'password-123' })
      const other = new AtpAgent({ service: procs[1 - i]!.url })
      await other.login({ identifier: handle, password: 'password-123' })
      accounts.push(i === 0 ? [creator, other] : [other, creator])
    }
    await Promise.all(
      accounts.flatMap((pair) =>
        pair.map(async (agent, side) => {
          for (let i = 0; i < 6; i++) {
            await agent.com.atproto.repo.createRecord({
              repo: agent.session!.did,
              collection: 'app.bsky.feed.post',
              record: post(`sqlite ${side}/${i}`),
            })
          }
        }),
      ),
    )
    figures = await measureLatency([a, b], accounts, hoses, 60)
    const reader = prismaAdapter(sqliteClient(url), { provider: 'sqlite' })
    const log = await reader.sequencer.range({ after: 0, limit: 10_000 })
    await reader.close()
    await Promise.all(hoses.map((h) => h.waitForSeq(log.at(-1)!.seq)))
    for (const h of hoses) h.close()
    const seqs = log.map((r) => r.seq)
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1))
    expect(log.filter((r) => r.type === 'commit')).toHaveLength(2 * 2 * 6 + 60)
    for (const h of hoses) expect(h.events.map((e) => e.seq)).toEqual(seqs)
    expect(hoses[0].events.map((e) => e.raw)).toEqual(hoses[1].events.map((e) => e.raw))
  })
})
