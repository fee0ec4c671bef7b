import { MST as RefMst, MemoryBlockstore as RefStore } from '@atproto/repo'
import { describe, expect, it } from 'vitest'
import { encodeCbor } from '../data/cbor.js'
import { type CID, cidForBytes } from '../data/cid.js'
import { MemoryBlockStore } from './block-store.js'
import { diffMst } from './diff.js'
import { MstOperationError } from './errors.js'
import { Mst } from './mst.js'
import { decodeNode, encodeNode } from './mst-node.js'

/** Deterministic PRNG (mulberry32) so failures reproduce from the seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const COLLECTIONS = ['app.bsky.feed.post', 'app.bsky.feed.like', 'app.bsky.graph.follow', 'com.example.x']

function randomKey(r: () => number): string {
  const col = COLLECTIONS[Math.floor(r() * COLLECTIONS.length)]
  return `${col}/${Math.floor(r() * 2 ** 48).toString(36)}`
}

function valueCid(i: number): CID {
  return cidForBytes(encodeCbor({ i }))
}

type Op = { key: string; cid: CID | null }

/** A random sequence of inserts, updates and deletes over a growing key set. */
function randomOps(r: () => number, n: number): Op[] {
  const live: string[] = []
  const ops: Op[] = []
  for (let i = 0; i < n; i++) {
    const roll = r()
    if (live.length > 0 && roll < 0.25) {
      const [key] = live.splice(Math.floor(r() * live.length), 1)
      ops.push({ key, cid: null })
    } else if (live.length > 0 && roll < 0.35) {
      ops.push({ key: live[Math.floor(r() * live.length)], cid: valueCid(i) })
    } else {
      const key = randomKey(r)
      if (!live.includes(key)) live.push(key)
      ops.push({ key, cid: valueCid(i) })
    }
  }
  return ops
}

async function refRoot(ops: Op[]): Promise<string> {
  let ref = await RefMst.create(new RefStore())
  const live = new Set<string>()
  for (const op of ops) {
    if (op.cid === null) {
      ref = await ref.delete(op.key)
      live.delete(op.key)
      // @NOTE the reference keeps the old layer on a tree emptied by deletes, so its next insert
      // builds a non-canonical shape (history-dependent; the spec forbids that). Restart it there.
      if (live.size === 0) ref = await RefMst.create(new RefStore())
    } else if (live.has(op.key)) ref = await ref.update(op.key, op.cid as any)
    else {
      ref = await ref.add(op.key, op.cid as any)
      live.add(op.key)
    }
  }
  return (await ref.getPointer()).toString()
}

async function ourTree(ops: Op[]): Promise<Mst> {
  let tree = Mst.create(new MemoryBlockStore())
  for (const op of ops)
    tree = op.cid === null ? (await tree.remove(op.key))[0] : (await tree.put(op.key, op.cid))[0]
  return tree
}

describe('MST differential against @atproto/repo', () => {
  for (let seed = 1; seed <= 200; seed++) {
    it(`seed ${seed}: random inserts/updates/deletes give the reference root`, async () => {
      const r = rng(seed)
      const ops = randomOps(r, 1 + Math.floor(r() * 120))
      expect((await ourTree(ops)).rootCid.toString()).toBe(await refRoot(ops))
    })
  }

  it('a 3,000-op random history gives the reference root', async () => {
    const ops = randomOps(rng(9001), 3000)
    expect((await ourTree(ops)).rootCid.toString()).toBe(await refRoot(ops))
  }, 120_000)

  it('a tree emptied by deletes then refilled has the canonical shape (the reference does not)', async () => {
    const ops: Op[] = [
      { key: 'app.bsky.feed.like/1xfsbx5728', cid: valueCid(1) },
      { key: 'app.bsky.feed.like/1xfsbx5728', cid: null },
      { key: 'app.bsky.graph.follow/lzi8qj668', cid: valueCid(2) },
    ]
    expect((await ourTree(ops)).rootCid.toString()).toBe(await refRoot(ops.slice(2)))
  })

  it('10,000 records: shape is independent of insertion order and survives deletes', async () => {
    const r = rng(77)
    const keys = [...new Set(Array.from({ length: 10_000 }, () => randomKey(r)))]
    const cid = valueCid(0)
    let a = Mst.create(new MemoryBlockStore())
    for (const k of keys) a = await a.add(k, cid)
    const sorted = [...keys].sort()
    const { tree: b } = await Mst.create(new MemoryBlockStore()).applyWrites(
      sorted.map((key) => ({ key, cid })),
    )
    expect(b.rootCid.toString()).toBe(a.rootCid.toString())
    // Deleting half from `a` equals building the other half from scratch.
    const gone = keys.filter((_, i) => i % 2 === 0)
    const { tree: c } = await a.applyWrites(gone.map((key) => ({ key, cid: null })))
    const { tree: d } = await Mst.create(new MemoryBlockStore()).applyWrites(
      keys.filter((_, i) => i % 2 === 1).map((key) => ({ key, cid })),
    )
    expect(c.rootCid.toString()).toBe(d.rootCid.toString())
    expect((await c.list()).map((e) => e.key)).toEqual(sorted.filter((k) => !gone.includes(k)))
  }, 120_000)
})

describe('MST persistence and diff', () => {
  it('reloads from the store lazily and diffs versions exactly', async () => {
    const store = new MemoryBlockStore()
    const r = rng(5)
    const ops = randomOps(r, 400)
    const base = await ourTree(ops)
    const d0 = await diffMst(null, base)
    await store.putBlocks(d0.newNodes)
    const loaded = await Mst.load(store, base.rootCid)
    const more = randomOps(rng(6), 60).map((o) => (o.cid === null ? { ...o, cid: valueCid(1) } : o))
    const { tree: next } = await loaded.applyWrites(more)
    const diff = await diffMst(loaded, next)
    // Applying the diff to the old record set gives the new record set.
    const before = new Map((await loaded.list()).map((e) => [e.key, e.cid.toString()]))
    for (const a of diff.adds) before.set(a.key, a.cid.toString())
    for (const u of diff.updates) before.set(u.key, u.cid.toString())
    for (const d of diff.deletes) before.delete(d.key)
    const after = new Map((await next.list()).map((e) => [e.key, e.cid.toString()]))
    expect([...before].sort()).toEqual([...after].sort())
    // The new blocks complete the old store: the new tree loads from it alone.
    await store.putBlocks(diff.newNodes)
    const reloaded = await Mst.load(store, next.rootCid)
    expect((await reloaded.list()).length).toBe(after.size)
    for (const cid of diff.removedNodes) expect(diff.newNodes.has(cid)).toBe(false)
  })

  it('add/update/delete enforce existence with a typed error', async () => {
    const t = await Mst.create(new MemoryBlockStore()).add('a.b/c', valueCid(1))
    await expect(t.add('a.b/c', valueCid(2))).rejects.toBeInstanceOf(MstOperationError)
    await expect(t.update('a.b/d', valueCid(2))).rejects.toBeInstanceOf(MstOperationError)
    await expect(t.delete('a.b/d')).rejects.toBeInstanceOf(MstOperationError)
    await expect(t.add('no-slash', valueCid(2))).rejects.toThrow(/not a valid MST key/)
  })

  it('node encoding is byte-identical to generic DAG-CBOR and decodes back', async () => {
    const tree = await ourTree(randomOps(rng(3), 200))
    const { newNodes } = await diffMst(null, tree)
    for (const [cid, bytes] of newNodes) {
      const node = decodeNode(cid, bytes, undefined)
      expect(encodeNode(node)).toEqual(bytes)
    }
  })
})
