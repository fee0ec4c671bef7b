// The fuzz run as a suite, so each mount's test file registers it against its running app (the Next.js
// build happens once, in mounts.test.ts). See fuzz.test.ts for what it sends and asserts.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { createForumAtproto } from '../lib/atproto.js'
import { checkAnswer, sendHttp, sendRaw } from './fuzz-answers.js'
import { type FuzzAccount, type FuzzCase, type FuzzTarget, generateCase, Rng } from './fuzz-requests.js'
import type { RunningApp } from './start-app.js'

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_201)
const CONCURRENCY = 16

async function createFuzzAccount(base: string): Promise<FuzzAccount> {
  const handle = `fuzz${SEED.toString(36)}${Date.now().toString(36)}.test`
  const res = await fetch(`${base}/xrpc/com.atproto.server.createAccount`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ handle, password: 'fuzz-password', email: `${handle}@example.com` }),
  })
  const account = (await res.json()) as { did: string; accessJwt: string }
  expect(res.status, JSON.stringify(account)).toBe(200)
  const post = await fetch(`${base}/xrpc/com.atproto.repo.createRecord`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${account.accessJwt}` },
    body: JSON.stringify({
      repo: account.did,
      collection: 'app.bsky.feed.post',
      record: { $type: 'app.bsky.feed.post', text: 'fuzz seed', createdAt: new Date().toISOString() },
    }),
  })
  const { uri, cid } = (await post.json()) as { uri: string; cid: string }
  return {
    did: account.did,
    handle,
    accessJwt: account.accessJwt,
    postRkey: uri.split('/').pop()!,
    postCid: cid,
  }
}

function describeCase(i: number, c: FuzzCase): string {
  if (c.kind === 'raw')
    return `#${i} raw ${c.label}: ${JSON.stringify(c.bytes.toString('latin1').slice(0, 160))}`
  const body = c.body
    ? ` body(${c.body.length})=${JSON.stringify(c.body.toString('latin1').slice(0, 120))}`
    : ''
  return `#${i} ${c.method} ${c.path.slice(0, 200)} ${JSON.stringify(c.headers).slice(0, 200)}${body}`
}

/** Run the fuzz against a running app; returns the failures and a status histogram. */
async function fuzz(app: RunningApp, registered: (nsid: string) => boolean, count: number) {
  const account = await createFuzzAccount(app.url)
  const target: FuzzTarget = { account, registered, jsonLimit: 150 * 1024 }
  const rng = new Rng(SEED)
  const cases = Array.from({ length: count }, () => generateCase(rng, target))
  const port = Number(new URL(app.url).port)
  const failures: string[] = []
  const statuses = new Map<number, number>()
  let next = 0
  let raw = 0
  const slow = new Map<string, number>()
  const started = performance.now()
  const worker = async () => {
    while (next < cases.length) {
      const i = next++
      const c = cases[i]!
      try {
        const t0 = performance.now()
        const answer = c.kind === 'raw' ? await sendRaw(port, c.bytes) : await sendHttp(app.url, c)
        const key = c.kind === 'raw' ? `raw ${c.label}` : `${c.method} ${c.nsid ?? 'bad path'}`
        slow.set(key, (slow.get(key) ?? 0) + performance.now() - t0)
        if (c.kind === 'raw') raw++
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1)
        const problems = checkAnswer(c, answer, registered)
        if (problems.length) failures.push(`${describeCase(i, c)}\n    -> ${problems.join('; ')}`)
      } catch (err) {
        failures.push(`${describeCase(i, c)}\n    -> request failed: ${(err as Error).message}`)
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  // The server is still healthy afterwards.
  const health = await fetch(`${app.url}/xrpc/_health`)
  expect(health.status).toBe(200)
  const histogram = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}:${n}`)
  const seconds = ((performance.now() - started) / 1000).toFixed(1)
  const slowest = [...slow].sort(([, a], [, b]) => b - a).slice(0, 5)
  console.log(
    `fuzz seed ${SEED}: ${cases.length} requests (${raw} raw-socket) in ${seconds} s, statuses ${histogram.join(' ')}; most time: ${slowest.map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)}s`).join(', ')}`,
  )
  return { failures, sent: cases.length }
}

/**
 * Register the fuzz test: `count` seeded requests (FUZZ_SEED reproduces a run) against the app at
 * `app()`, which must be the forum (its NSIDs are read from the same app definition).
 */
export function fuzzSuite(app: () => RunningApp, count: number): void {
  let probeDir: string
  let registered: (nsid: string) => boolean
  beforeAll(async () => {
    // The same app definition, set up but not served, says which NSIDs the forum registers.
    probeDir = mkdtempSync(join(tmpdir(), 'forum-fuzz-probe-'))
    const probe = createForumAtproto({ dataDir: probeDir })
    await probe.ready
    registered = (nsid) => probe.xrpc.has(nsid)
  })
  afterAll(() => rmSync(probeDir, { recursive: true, force: true }))

  it(`answers ${count} random requests without a 5xx, always with XRPC errors`, {
    timeout: 600_000,
  }, async () => {
    const { failures, sent } = await fuzz(app(), registered, count)
    expect(sent).toBe(count)
    expect(failures.slice(0, 25), `${failures.length} of ${sent} answers were wrong`).toEqual([])
  })
}
