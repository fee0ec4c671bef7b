// PDS benchmark: our PDS and the reference PDS (@atproto/pds) side by side in one run, each in its own
// process on loopback, same machine, both on SQLite with rate limits off. The client (this process)
// speaks plain XRPC over fetch and reads the firehose with `ws`, so it costs both servers the same.
//   createRecord sequential (1 repo) and with 8 concurrent writers on 8 repos, records/s
//   getRecord p50/p99 (random records of a 300-record repo)
//   getRepo MB/s of a 10k-record repo
//   firehose latency p50/p99 (write returned -> its #commit received, 0 when the event came first; and
//   write sent -> #commit received), while writes flow and after 1 s idle
// Ratios: ours/reference for throughput, reference/ours for latency (above 1 means we are better).
// Run: npm run bench (or: npx tsc -b packages/core packages/adapters && node bench/pds.mjs [--quick])
// The reference is installed on first use into bench/reference-pds (its own package.json, outside the
// workspaces: it needs Node 22 and is shimmed for Node 20 by bench/pds/reference-server.mjs).
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import WebSocket from 'ws'
import { decodeFrame } from '../packages/core/dist/xrpc/frames.js'

const here = path.dirname(fileURLToPath(import.meta.url))
const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } })
const SCALE = values.quick ? 0.2 : 1
const n = (x) => Math.max(10, Math.round(x * SCALE))
const WARMUP_WRITES = n(300)
const SEQ_WRITES = n(1000)
const SEQ_ROUNDS = values.quick ? 2 : 5
const PAR_WRITES = n(120) // per writer, 8 writers
const PAR_ROUNDS = values.quick ? 2 : 3
const GETS = n(1000)
const REPO_RECORDS = values.quick ? 2000 : 10_000
const LIVE_WRITES = n(200)
const IDLE_WRITES = values.quick ? 5 : 15

ensureReference()

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pds-bench-'))
const children = []
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL')
  fs.rmSync(tmp, { recursive: true, force: true })
})

const oursPort = await freePort()
const ours = await startServer(
  'ours',
  ['--import', 'tsx', path.join(here, 'pds/ours-server.mjs')],
  [String(oursPort), path.join(tmp, 'ours')],
)
// The reference resolves and registers its DIDs through our PLC directory (the same one ours uses).
const refPort = await freePort()
const reference = await startServer(
  'reference',
  [path.join(here, 'pds/reference-server.mjs')],
  [String(refPort), path.join(tmp, 'reference'), `http://127.0.0.1:${oursPort}/plc`],
)

const results = await runWorkload({ ours, reference })
const rows = []
const fmt = (x) => (x >= 100 ? x.toFixed(0) : x.toFixed(2))
function row(label, key, unit, higherIsBetter) {
  const a = results.ours[key]
  const b = results.reference[key]
  rows.push({
    measure: label,
    ours: `${fmt(a)} ${unit}`,
    reference: `${fmt(b)} ${unit}`,
    // A latency of 0: our event reached the consumer before the write's response did.
    ratio:
      !higherIsBetter && a === 0 && b > 0 ? 'event first' : `${(higherIsBetter ? a / b : b / a).toFixed(2)}x`,
  })
}
row('createRecord, sequential, 1 repo', 'seqRate', 'rec/s', true)
row('createRecord, 8 writers on 8 repos', 'parRate', 'rec/s', true)
row('getRecord p50', 'getP50', 'ms', false)
row('getRecord p99', 'getP99', 'ms', false)
row(`getRepo, ${REPO_RECORDS} records`, 'repoMBs', 'MB/s', true)
row('firehose latency p50, writes flowing', 'liveP50', 'ms', false)
row('firehose latency p99, writes flowing', 'liveP99', 'ms', false)
row('firehose latency p50, after 1 s idle', 'idleP50', 'ms', false)
row('firehose latency p99, after 1 s idle', 'idleP99', 'ms', false)
row('write sent -> event p50, writes flowing', 'liveSentP50', 'ms', false)
row('write sent -> event p99, writes flowing', 'liveSentP99', 'ms', false)
row('write sent -> event p50, after 1 s idle', 'idleSentP50', 'ms', false)
row('write sent -> event p99, after 1 s idle', 'idleSentP99', 'ms', false)
console.log(
  `\nPDS bench (ratio: ours/reference for rates, reference/ours for latencies; >1 is better for ours; firehose latency 0 / "event first": the event reached the consumer before the write's response)`,
)
console.table(rows)
process.exit(0)

// --- workload ---------------------------------------------------------------------------------------
// Shared machines drift (other tenants, CPU frequency): each measure runs in rounds that alternate the
// two servers (who goes first alternates too), so both see the same conditions and the ratio holds
// even when the absolute figures move.

async function runWorkload(servers) {
  const names = Object.keys(servers)
  const out = Object.fromEntries(names.map((n) => [n, {}]))
  const state = {}
  for (const name of names) {
    const base = servers[name]
    const accounts = []
    for (let i = 0; i < 9; i++) accounts.push(await createAccount(base, `b${i}${Date.now().toString(36)}`))
    const [main, ...writers] = accounts
    state[name] = { base, main, writers }
  }
  /** Run `fn(name)` for every server, `rounds` times, alternating the order. */
  async function rounds(count, fn) {
    for (let r = 0; r < count; r++) {
      const order = r % 2 === 0 ? names : [...names].reverse()
      for (const name of order) await fn(name, r)
    }
  }

  // Warm-up of both (JIT, SQLite caches, first-write paths), in the same rounds.
  await rounds(2, async (name) => {
    const { base, main } = state[name]
    for (let i = 0; i < WARMUP_WRITES / 2; i++) await createRecord(base, main, i)
  })

  const seqTime = {}
  await rounds(SEQ_ROUNDS, async (name) => {
    const { base, main } = state[name]
    const t0 = performance.now()
    for (let i = 0; i < SEQ_WRITES / SEQ_ROUNDS; i++) await createRecord(base, main, i)
    seqTime[name] = (seqTime[name] ?? 0) + (performance.now() - t0)
  })
  for (const name of names) out[name].seqRate = SEQ_WRITES / (seqTime[name] / 1000)

  const parTime = {}
  await rounds(PAR_ROUNDS, async (name) => {
    const { base, writers } = state[name]
    const t0 = performance.now()
    await Promise.all(
      writers.map(async (w) => {
        for (let i = 0; i < PAR_WRITES / PAR_ROUNDS; i++) await createRecord(base, w, i)
      }),
    )
    parTime[name] = (parTime[name] ?? 0) + (performance.now() - t0)
  })
  for (const name of names)
    out[name].parRate = (PAR_WRITES * state[name].writers.length) / (parTime[name] / 1000)

  // getRecord over the records the sequential phase wrote.
  for (const name of names) {
    const { base, main } = state[name]
    const list = await xrpc(base, 'GET', 'com.atproto.repo.listRecords', {
      query: { repo: main.did, collection: 'app.bsky.feed.post', limit: '100' },
    })
    state[name].rkeys = list.records.map((r) => r.uri.split('/').pop())
    state[name].gets = []
  }
  await rounds(2, async (name) => {
    const { base, main, rkeys, gets } = state[name]
    for (let i = 0; i < GETS / 2; i++) {
      const rkey = rkeys[i % rkeys.length]
      const s = performance.now()
      await xrpc(base, 'GET', 'com.atproto.repo.getRecord', {
        query: { repo: main.did, collection: 'app.bsky.feed.post', rkey },
      })
      gets.push(performance.now() - s)
    }
  })
  for (const name of names) [out[name].getP50, out[name].getP99] = percentiles(state[name].gets)

  // Firehose latency: write returned -> the #commit with that rev arrives.
  for (const name of names) {
    state[name].fire = await subscribe(state[name].base)
    state[name].live = []
    state[name].idle = []
    state[name].liveSent = []
    state[name].idleSent = []
  }
  await rounds(2, async (name) => {
    const { base, main, fire, live, liveSent } = state[name]
    for (let i = 0; i < LIVE_WRITES / 2; i++) {
      const sent = performance.now()
      const res = await createRecord(base, main, i)
      const returned = performance.now()
      const at = await fire.waitFor(res.commit.rev)
      live.push(Math.max(0, at - returned)) // 0: the event was there before the response
      liveSent.push(at - sent)
    }
  })
  // After 1 s idle: both servers idle together, then one write each.
  for (let i = 0; i < IDLE_WRITES; i++) {
    await sleep(1000)
    const order = i % 2 === 0 ? names : [...names].reverse()
    for (const name of order) {
      const { base, main, fire, idle, idleSent } = state[name]
      const sent = performance.now()
      const res = await createRecord(base, main, i)
      const returned = performance.now()
      const at = await fire.waitFor(res.commit.rev)
      idle.push(Math.max(0, at - returned))
      idleSent.push(at - sent)
    }
  }
  for (const name of names) {
    ;[out[name].liveP50, out[name].liveP99] = percentiles(state[name].live)
    ;[out[name].idleP50, out[name].idleP99] = percentiles(state[name].idle)
    ;[out[name].liveSentP50, out[name].liveSentP99] = percentiles(state[name].liveSent)
    ;[out[name].idleSentP50, out[name].idleSentP99] = percentiles(state[name].idleSent)
    state[name].fire.close()
  }

  // A big repo: applyWrites batches of 200 creates (the reference's limit), then getRepo.
  for (const name of names) {
    const { base } = state[name]
    const big = await createAccount(base, `big${Date.now().toString(36)}`)
    for (let done = 0; done < REPO_RECORDS; done += 200) {
      const writes = []
      for (let i = done; i < Math.min(done + 200, REPO_RECORDS); i++)
        writes.push({
          $type: 'com.atproto.repo.applyWrites#create',
          collection: 'app.bsky.feed.post',
          value: post(i),
        })
      await xrpc(base, 'POST', 'com.atproto.repo.applyWrites', { auth: big, body: { repo: big.did, writes } })
    }
    state[name].big = big
  }
  const repo = {}
  await rounds(4, async (name) => {
    const { base, big } = state[name]
    const t0 = performance.now()
    const res = await fetch(`${base}/xrpc/com.atproto.sync.getRepo?did=${encodeURIComponent(big.did)}`)
    if (!res.ok) throw new Error(`getRepo: ${res.status} ${await res.text()}`)
    const bytes = (await res.arrayBuffer()).byteLength
    const r = (repo[name] ??= { bytes: 0, ms: 0 })
    r.bytes += bytes
    r.ms += performance.now() - t0
  })
  for (const name of names) {
    out[name].repoMBs = repo[name].bytes / 1e6 / (repo[name].ms / 1000)
    console.log(
      `-- ${name} (${servers[name]}): ${SEQ_WRITES} sequential + ${PAR_WRITES * 8} concurrent writes, ${GETS} gets, ${LIVE_WRITES + IDLE_WRITES} firehose probes, getRepo ${(repo[name].bytes / 4 / 1e6).toFixed(1)} MB`,
    )
  }
  return out
}

function post(i) {
  return {
    $type: 'app.bsky.feed.post',
    text: `benchmark post number ${i}: a sentence of typical length, with a few words more than needed.`,
    createdAt: new Date().toISOString(),
    langs: ['en'],
  }
}

async function createAccount(base, name) {
  const res = await xrpc(base, 'POST', 'com.atproto.server.createAccount', {
    body: { handle: `${name}.test`, email: `${name}@example.com`, password: 'bench-password' },
  })
  return { did: res.did, accessJwt: res.accessJwt }
}

function createRecord(base, account, i) {
  return xrpc(base, 'POST', 'com.atproto.repo.createRecord', {
    auth: account,
    body: { repo: account.did, collection: 'app.bsky.feed.post', record: post(i) },
  })
}

async function xrpc(base, method, nsid, { query, body, auth } = {}) {
  const url = new URL(`/xrpc/${nsid}`, base)
  for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v)
  const headers = {}
  if (auth) headers.authorization = `Bearer ${auth.accessJwt}`
  if (body) headers['content-type'] = 'application/json'
  const res = await fetch(url, { method, headers, body: body ? JSON.stringify(body) : undefined })
  const text = await res.text()
  if (!res.ok) throw new Error(`${nsid}: ${res.status} ${text}`)
  return text ? JSON.parse(text) : {}
}

function subscribe(base) {
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/xrpc/com.atproto.sync.subscribeRepos`)
  const seen = new Map()
  const waiting = new Map()
  ws.on('message', (data) => {
    const at = performance.now()
    const frame = decodeFrame(new Uint8Array(data))
    if (frame.op !== 1 || frame.t !== '#commit') return
    const rev = frame.body.rev
    const w = waiting.get(rev)
    if (w) {
      waiting.delete(rev)
      w(at)
    } else seen.set(rev, at)
  })
  return new Promise((resolve, reject) => {
    ws.once('error', reject)
    ws.once('open', () =>
      resolve({
        waitFor: (rev) =>
          new Promise((done, fail) => {
            const at = seen.get(rev)
            if (at !== undefined) {
              seen.delete(rev)
              return done(at)
            }
            const timer = setTimeout(() => fail(new Error(`no #commit for rev ${rev} within 10 s`)), 10_000)
            waiting.set(rev, (t) => {
              clearTimeout(timer)
              done(t)
            })
          }),
        close: () => ws.close(),
      }),
    )
  })
}

// --- helpers ------------------------------------------------------------------------------------------

function percentiles(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const at = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))]
  return [at(0.5), at(0.99)]
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms))
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

function startServer(name, nodeArgs, args) {
  const child = spawn(process.execPath, [...nodeArgs, ...args], {
    cwd: path.dirname(here),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let log = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 60 s:\n${log}`)), 60_000)
    child.stdout.on('data', (d) => {
      log += d
      const m = /ready (\S+)/.exec(log)
      if (m) {
        clearTimeout(timer)
        resolve(`http://127.0.0.1:${new URL(m[1]).port}`)
      }
    })
    child.stderr.on('data', (d) => {
      log += d
    })
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}:\n${log}`)))
  })
}

/** Install @atproto/pds into bench/reference-pds on first use (npm registry only, no binaries). */
function ensureReference() {
  const dir = path.join(here, 'reference-pds')
  if (fs.existsSync(path.join(dir, 'node_modules/@atproto/pds/package.json'))) return
  console.log('installing the reference PDS into bench/reference-pds (first run only)...')
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
    cwd: dir,
    stdio: 'inherit',
  })
  if (r.status !== 0) throw new Error('npm ci in bench/reference-pds failed')
}
