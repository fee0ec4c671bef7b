// Repository benchmarks, ours vs @atproto/repo side by side in one run.
// Run: npx tsc -b packages/core && node --expose-gc bench/repo.mjs

import { Secp256k1Keypair } from '@atproto/crypto'
import {
  getFullRepo,
  MST as RefMst,
  Repo as RefRepo,
  MemoryBlockstore as RefStore,
  readCarWithRoot,
  verifyRepo as refVerifyRepo,
  WriteOpAction,
} from '@atproto/repo'
import { encodeCbor } from '../packages/core/dist/data/cbor.js'
import { cidForBytes } from '../packages/core/dist/data/cid.js'
import {
  exportRepoCar,
  MemoryBlockStore,
  Mst,
  Repo,
  verifyRepoCar,
} from '../packages/core/dist/repo/index.js'

const gc = globalThis.gc ?? (() => {})
const now = () => performance.now()
const fmt = (n) => (n >= 100 ? n.toFixed(0) : n.toFixed(2))
const rows = []
function row(name, ours, ref, unit, higherIsBetter = true) {
  // Memory deltas can round to 0 (the heap reuses freed pages): floor them so the ratio stays finite.
  const ratio = higherIsBetter ? ours / ref : Math.max(ref, 0.1) / Math.max(ours, 0.1)
  rows.push({
    name,
    ours: `${fmt(ours)} ${unit}`,
    reference: `${fmt(ref)} ${unit}`,
    'ours/ref': `${ratio.toFixed(2)}x`,
  })
}

function keys(n) {
  const out = []
  for (let i = 0; i < n; i++) out.push(`app.bsky.feed.post/3k${(1e12 + i * 7919).toString(36)}`)
  return out
}
const leaf = cidForBytes(encodeCbor({ hello: 'world' }))

// 1. MST build: 10k sequential inserts into one tree, root CID computed at the end.
{
  const ks = keys(10_000)
  let t0 = now()
  let tree = Mst.create(new MemoryBlockStore())
  for (const k of ks) tree = await tree.add(k, leaf)
  tree.rootCid
  const ours = ks.length / ((now() - t0) / 1000)
  t0 = now()
  let ref = await RefMst.create(new RefStore())
  for (const k of ks) ref = await ref.add(k, leaf)
  await ref.getPointer()
  const refRate = ks.length / ((now() - t0) / 1000)
  row('MST build 10k, inserts/s', ours, refRate, 'ops/s')
  t0 = now()
  const { tree: batched } = await Mst.create(new MemoryBlockStore()).applyWrites(
    ks.map((key) => ({ key, cid: leaf })),
  )
  batched.rootCid
  row('MST build 10k batched (applyWrites), inserts/s', ks.length / ((now() - t0) / 1000), refRate, 'ops/s')
}

// 2. Repo of 100k records: CAR export throughput and memory, then read+verify.
const N = Number(process.env.BENCH_RECORDS ?? 100_000)
const key = await Secp256k1Keypair.create()
const did = 'did:plc:benchbenchbenchbench0000'
const writes = Array.from({ length: N }, (_, i) => ({
  action: 'create',
  collection: 'app.bsky.feed.post',
  rkey: `3k${(1e12 + i * 7919).toString(36)}`,
  record: {
    $type: 'app.bsky.feed.post',
    text: `bench post ${i} ${'lorem ipsum '.repeat(8)}`,
    createdAt: new Date(1.7e12 + i).toISOString(),
  },
}))
const ours = await Repo.create(new MemoryBlockStore(), did, key, writes)
const refStore = new RefStore()
const ref = await RefRepo.create(
  refStore,
  did,
  key,
  writes.map((w) => ({ ...w, action: WriteOpAction.Create })),
)
if (ours.commit.data.toString() !== ref.commit.data.toString()) throw new Error('data roots differ')

async function drain(it) {
  gc()
  const rss0 = process.memoryUsage().rss
  const heap0 = process.memoryUsage().heapUsed
  let peakRss = rss0
  let peakHeap = heap0
  let bytes = 0
  let n = 0
  const t0 = now()
  for await (const chunk of it) {
    bytes += chunk.byteLength
    if ((++n & 63) === 0) {
      const m = process.memoryUsage()
      peakRss = Math.max(peakRss, m.rss)
      peakHeap = Math.max(peakHeap, m.heapUsed)
    }
  }
  const secs = (now() - t0) / 1000
  return { mbps: bytes / 1e6 / secs, bytes, rss: (peakRss - rss0) / 1e6, heap: (peakHeap - heap0) / 1e6 }
}

async function collect(it) {
  const parts = []
  for await (const c of it) parts.push(c.slice())
  return Buffer.concat(parts)
}

const a = await drain(exportRepoCar(ours.store, ours.cid))
const b = await drain(getFullRepo(refStore, ref.cid))
row(`CAR export ${N} records, MB/s`, a.mbps, b.mbps, 'MB/s')
row('CAR export peak RSS delta', a.rss, b.rss, 'MB', false)
row('CAR export peak heap delta', a.heap, b.heap, 'MB', false)

const car = await collect(exportRepoCar(ours.store, ours.cid))
{
  let t0 = now()
  await verifyRepoCar(car, { did })
  const mine = car.byteLength / 1e6 / ((now() - t0) / 1000)
  t0 = now()
  const { root, blocks } = await readCarWithRoot(car)
  await refVerifyRepo(blocks, root, did)
  const theirs = car.byteLength / 1e6 / ((now() - t0) / 1000)
  row(`CAR read+verify (${(car.byteLength / 1e6).toFixed(1)} MB), MB/s`, mine, theirs, 'MB/s')
}

console.table(rows)
