// The block cache's decoded MST nodes: loads through it skip the store and the decode, give the same
// trees, and never let a cached node stand in where a full decode would refuse it.
import { describe, expect, it } from 'vitest'
import { encodeCbor } from '../data/cbor.js'
import { type CID, cidForBytes } from '../data/cid.js'
import { BlockCache } from './block-cache.js'
import type { BlockMap } from './block-map.js'
import { type BlockStore, MemoryBlockStore } from './block-store.js'
import { diffMst } from './diff.js'
import { InvalidMstNodeError } from './errors.js'
import { Mst, NodeLoader } from './mst.js'

const value = (i: number): CID => cidForBytes(encodeCbor({ i }))

/** A store that counts the blocks asked of it. */
function counting(inner: MemoryBlockStore): BlockStore & { asked: number } {
  const store = {
    asked: 0,
    getBlocks: async (cids: CID[]) => {
      store.asked += cids.length
      return inner.getBlocks(cids)
    },
    putBlocks: (blocks: BlockMap) => inner.putBlocks(blocks),
  }
  return store
}

async function storedTree(count: number): Promise<{ store: MemoryBlockStore; tree: Mst }> {
  const writes = Array.from({ length: count }, (_, i) => ({
    key: `app.bsky.feed.post/3k${i.toString(36).padStart(8, '0')}`,
    cid: value(i),
  }))
  const { tree } = await Mst.create(new MemoryBlockStore()).applyWrites(writes)
  const store = new MemoryBlockStore()
  await store.putBlocks((await diffMst(null, tree)).newNodes)
  return { store, tree }
}

describe('decoded MST nodes in the block cache', () => {
  it('a second load of the same tree asks the store for nothing and lists the same records', async () => {
    const { store, tree } = await storedTree(600)
    const cache = new BlockCache()
    const first = counting(store)
    const a = await Mst.load(cache.readThrough(first), tree.rootCid)
    const listedA = await a.list()
    expect(first.asked).toBeGreaterThan(10)
    const second = counting(store)
    const b = await Mst.load(cache.readThrough(second), tree.rootCid)
    const listedB = await b.list()
    expect(second.asked).toBe(0)
    expect(listedB.map((e) => `${e.key} ${e.cid}`)).toEqual(listedA.map((e) => `${e.key} ${e.cid}`))
    expect(listedB).toHaveLength(600)
  })

  it('nodes a write built, added once stored, serve the next load of the new tree', async () => {
    const { store, tree } = await storedTree(300)
    const cache = new BlockCache()
    const loaded = await Mst.load(cache.readThrough(counting(store)), tree.rootCid)
    await loaded.list() // every node of the old tree decoded (and cached) once
    const { tree: next } = await loaded.applyWrites([
      { key: 'app.bsky.feed.post/3kzzzzzzzz', cid: value(-1) },
    ])
    const diff = await diffMst(loaded, next)
    await store.putBlocks(diff.newNodes)
    for (const node of diff.newNodeList) cache.addNode(node)
    const reader = counting(store)
    const again = await Mst.load(cache.readThrough(reader), next.rootCid)
    expect((await again.get('app.bsky.feed.post/3kzzzzzzzz'))?.toString()).toBe(value(-1).toString())
    expect(await again.list()).toHaveLength(301)
    expect(reader.asked).toBe(0)
  })

  it('hands out copies: loading sub-trees into one copy leaves the cached node as it was', async () => {
    const { store, tree } = await storedTree(400)
    const cache = new BlockCache()
    await (await Mst.load(cache.readThrough(store), tree.rootCid)).list()
    const one = cache.getNode(tree.rootCid)!
    const two = cache.getNode(tree.rootCid)!
    expect(one).not.toBe(two)
    expect(one.slots).not.toBe(two.slots)
    one.slots[0] = null
    expect(cache.getNode(tree.rootCid)!.slots[0]).not.toBeNull()
  })

  it('a cached node asked for at another depth is decoded in full, and refused as a full decode is', async () => {
    const { store, tree } = await storedTree(400)
    const cache = new BlockCache()
    await Mst.load(cache.readThrough(store), tree.rootCid)
    const root = cache.getNode(tree.rootCid)!
    expect(root.layer).toBeGreaterThan(0)
    const loader = new NodeLoader(cache.readThrough(store))
    await expect(loader.load([{ cid: tree.rootCid, layer: root.layer - 1 }])).rejects.toBeInstanceOf(
      InvalidMstNodeError,
    )
    await expect(
      new NodeLoader(store).load([{ cid: tree.rootCid, layer: root.layer - 1 }]),
    ).rejects.toBeInstanceOf(InvalidMstNodeError)
  })

  it('stays within its byte budget, dropping the least recently used nodes', async () => {
    const { store, tree } = await storedTree(2000)
    const cache = new BlockCache(64 * 1024)
    await (await Mst.load(cache.readThrough(store), tree.rootCid)).list()
    let kept = 0
    for (const [cid] of store.blocks) if (cache.getNode(cid)) kept++
    expect(kept).toBeGreaterThan(0)
    expect(kept).toBeLessThan(store.blocks.size)
  })
})
