import { Secp256k1Keypair, verifySignature } from '@atproto/crypto'
import {
  getFullRepo,
  Repo as RefRepo,
  MemoryBlockstore as RefStore,
  readCarWithRoot,
  verifyRepo as refVerifyRepo,
  WriteOpAction,
} from '@atproto/repo'
import { describe, expect, it } from 'vitest'
import { decodeCbor } from '../data/cbor.js'
import type { CID } from '../data/cid.js'
import { MemoryBlockStore } from './block-store.js'
import { blocksToCarFile, readCar } from './car.js'
import { decodeCommit, verifyCommitSignature } from './commit.js'
import { InvalidCommitError } from './errors.js'
import { exportRepoCar, exportRepoStream, mstBlocks } from './export.js'
import { verifyCommitProof } from './proof.js'
import { type RecordWrite, Repo } from './repo.js'
import { verifyRepoCar } from './verify.js'

const DID = 'did:plc:repotest0000000000000000'
const verify = (didKey: string, msg: Uint8Array, sig: Uint8Array) => verifySignature(didKey, msg, sig)

function post(i: number) {
  return {
    $type: 'app.bsky.feed.post',
    text: `post number ${i}`,
    createdAt: new Date(1_700_000_000_000 + i).toISOString(),
  }
}

function creates(n: number, offset = 0): RecordWrite[] {
  return Array.from({ length: n }, (_, i) => ({
    action: 'create' as const,
    collection: i % 3 === 0 ? 'app.bsky.feed.like' : 'app.bsky.feed.post',
    rkey: `r${(offset + i).toString().padStart(6, '0')}`,
    record: post(offset + i),
  }))
}

async function concatAll(it: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const c of it) parts.push(c.slice())
  return Buffer.concat(parts)
}

describe('Repo against @atproto/repo', () => {
  it("same writes give the same data root; each side verifies the other side's CAR", async () => {
    const key = await Secp256k1Keypair.create()
    const writes = creates(300)
    const ours = await Repo.create(new MemoryBlockStore(), DID, key, writes)
    const refStore = new RefStore()
    const ref = await RefRepo.create(
      refStore,
      DID,
      key,
      writes.map((w) => ({
        action: WriteOpAction.Create,
        collection: w.collection,
        rkey: w.rkey,
        record: (w as any).record,
      })),
    )
    expect(ours.commit.data.toString()).toBe(ref.commit.data.toString())

    // Our export, verified by the reference.
    const car = await concatAll(exportRepoCar(ours.store, ours.cid))
    const { root, blocks } = await readCarWithRoot(car)
    const verified = await refVerifyRepo(blocks, root, DID, key.did())
    expect(verified.creates.length).toBe(300)

    // The reference's export, verified by us.
    const refCar = await concatAll(getFullRepo(refStore, ref.cid))
    const mine = await verifyRepoCar(refCar, { did: DID, didKey: key.did(), verify })
    expect(mine.records.length).toBe(300)
    expect(mine.records.every((r) => r.bytes !== undefined)).toBe(true)
  })

  it('updates and deletes track the reference, and commits carry sync 1.1 material', async () => {
    const key = await Secp256k1Keypair.create()
    let ours = await Repo.create(new MemoryBlockStore(), DID, key, creates(50))
    const refStore = new RefStore()
    let ref = await RefRepo.create(
      refStore,
      DID,
      key,
      creates(50).map((w) => ({ ...(w as any), action: WriteOpAction.Create })),
    )
    const batch: RecordWrite[] = [
      ...creates(5, 1000),
      { action: 'update', collection: 'app.bsky.feed.post', rkey: creates(50)[1].rkey, record: post(-1) },
      { action: 'delete', collection: 'app.bsky.feed.like', rkey: creates(50)[3].rkey },
    ]
    const prevData = ours.commit.data
    const { repo, commit } = await ours.applyWrites(batch, key)
    ref = await ref.applyWrites(
      batch.map((w) => ({ ...(w as any), action: w.action as WriteOpAction })),
      key,
    )
    expect(repo.commit.data.toString()).toBe(ref.commit.data.toString())
    expect(commit.prevData?.toString()).toBe(prevData.toString())
    expect(commit.since).toBe(ours.commit.rev)
    expect(commit.rev > ours.commit.rev).toBe(true)
    expect(commit.ops.map((o) => o.action)).toEqual([
      'create',
      'create',
      'create',
      'create',
      'create',
      'update',
      'delete',
    ])
    // The firehose slice alone inverts back to prevData, and the signature verifies.
    const { blocks } = await readCar(await blocksToCarFile(commit.cid, commit.relevantBlocks))
    const checked = await verifyCommitProof({
      blocks,
      commit: commit.cid,
      ops: commit.ops,
      prevData,
      didKey: key.did(),
      verify,
    })
    expect(checked.prevRoot.toString()).toBe(prevData.toString())
    // A wrong prevData or a dropped op is caught.
    await expect(
      verifyCommitProof({ blocks, commit: commit.cid, ops: commit.ops.slice(1), prevData }),
    ).rejects.toThrow()
    ours = repo
    expect(await ours.getRecord('app.bsky.feed.like', creates(50)[3].rkey)).toBeNull()
  })

  it('commit signatures: verify with the right key, fail with another', async () => {
    const key = await Secp256k1Keypair.create()
    const other = await Secp256k1Keypair.create()
    const repo = await Repo.create(new MemoryBlockStore(), DID, key, creates(3))
    expect(await verifyCommitSignature(repo.commit, key.did(), verify)).toBe(true)
    expect(await verifyCommitSignature(repo.commit, other.did(), verify)).toBe(false)
    const car = await concatAll(exportRepoCar(repo.store, repo.cid))
    await expect(verifyRepoCar(car, { didKey: other.did(), verify })).rejects.toBeInstanceOf(
      InvalidCommitError,
    )
    await expect(verifyRepoCar(car, { did: 'did:plc:someoneelse' })).rejects.toBeInstanceOf(
      InvalidCommitError,
    )
    expect(() => decodeCommit(new Uint8Array([0xa0]))).toThrow(InvalidCommitError)
  })

  it('export streams in the streamable order: commit, root node, then pre-order', async () => {
    const key = await Secp256k1Keypair.create()
    const repo = await Repo.create(new MemoryBlockStore(), DID, key, creates(200))
    const stream = exportRepoStream(repo.store, repo.cid)
    const { roots, blocks } = await readCar(stream)
    const cids = blocks.cids().map(String)
    expect(roots[0].toString()).toBe(repo.cid.toString())
    expect(cids[0]).toBe(repo.cid.toString())
    expect(cids[1]).toBe(repo.commit.data.toString())
    const verified = await verifyRepoCar(await concatAll(exportRepoCar(repo.store, repo.cid)))
    expect(verified.records.map((r) => r.key)).toEqual(
      creates(200)
        .map((w) => `${w.collection}/${w.rkey}`)
        .sort(),
    )
  })

  it('export batches store round trips yet emits exactly the one-node-at-a-time pre-order', async () => {
    const key = await Secp256k1Keypair.create()
    // Identical records share a CID: each occurrence is emitted, as a plain walk does.
    const writes = creates(3000).map((w, i) => (i % 10 === 0 ? { ...w, record: post(0) } : w))
    const repo = await Repo.create(new MemoryBlockStore(), DID, key, writes)
    const root = repo.commit.data
    const store = repo.store as MemoryBlockStore
    // The reference order: a recursive pre-order walk, one node at a time.
    const expected: string[] = []
    let nodes = 0
    const enter = (cid: CID) => {
      expected.push(cid.toString())
      walk(cid)
    }
    const walk = (cid: CID) => {
      nodes++
      const node = decodeCbor(store.getSync(cid)!) as { l: CID | null; e: { v: CID; t: CID | null }[] }
      if (node.l) enter(node.l)
      for (const e of node.e) {
        expected.push(e.v.toString())
        if (e.t) enter(e.t)
      }
    }
    expected.push(root.toString())
    walk(root)
    for (const batchSize of [1, 7, 100, 500]) {
      let trips = 0
      let largest = 0
      const counting = {
        getBlocks: (cids: CID[]) => {
          trips++
          largest = Math.max(largest, cids.length)
          return store.getBlocks(cids)
        },
        putBlocks: () => Promise.reject(new Error('read only')),
      }
      const emitted: string[] = []
      for await (const b of mstBlocks(counting, root, { batchSize })) {
        expect(b.bytes).toEqual(store.getSync(b.cid))
        emitted.push(b.cid.toString())
      }
      expect(emitted).toEqual(expected)
      if (batchSize >= 100) expect(trips).toBeLessThan(nodes / 15)
      else expect(trips).toBeLessThanOrEqual(nodes + 1)
    }
    // A missing block is still reported, not skipped.
    const holed = new MemoryBlockStore()
    for (const cid of store.blocks.cids())
      if (cid.toString() !== expected[500]) holed.blocks.set(cid, store.getSync(cid)!)
    await expect(async () => {
      for await (const _ of mstBlocks(holed, root)) void _
    }).rejects.toThrow(/missing|Missing/)
  })
})
