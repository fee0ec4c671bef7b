import { describe, expect, it } from 'vitest'
import { encodeCbor } from '../data/cbor.js'
import { type CID, cidForBytes } from '../data/cid.js'
import { BlockMap } from './block-map.js'
import { encodeCommit } from './commit.js'
import { InvalidMstNodeError, MissingBlocksError } from './errors.js'
import { keyHeight } from './mst-node.js'
import { verifyRepo } from './verify.js'

const record = encodeCbor({ text: 'hi' })
const recordCid = cidForBytes(record)

/** A repo whose MST root is the given raw node data (commit signature is not checked here). */
function repoWithRoot(node: unknown, withRecord = true): { blocks: BlockMap; head: CID } {
  const blocks = new BlockMap()
  const nodeBytes = encodeCbor(node)
  const root = cidForBytes(nodeBytes)
  blocks.set(root, nodeBytes)
  if (withRecord) blocks.set(recordCid, record)
  const { cid, bytes } = encodeCommit({
    did: 'did:plc:x',
    version: 3,
    data: root,
    rev: '3kabcdefghij2',
    prev: null,
    sig: new Uint8Array(64),
  })
  blocks.set(cid, bytes)
  return { blocks, head: cid }
}

const enc = (s: string) => new TextEncoder().encode(s)
// Keys found by height: two of height 0 sharing the prefix "com.ex.a/".
const k0 = ['com.ex.a/aa', 'com.ex.a/ab', 'com.ex.a/ac', 'com.ex.a/ad', 'com.ex.a/ae'].filter(
  (k) => keyHeight(k) === 0,
)
const k1 = Array.from({ length: 400 }, (_, i) => `com.ex.a/k${i}`).find((k) => keyHeight(k) === 1)!

describe('verifyRepo', () => {
  it('accepts a canonical single-node tree and returns its records', async () => {
    const node = { e: [{ k: enc(k0[0]), p: 0, t: null, v: recordCid }], l: null }
    const { blocks, head } = repoWithRoot(node)
    const out = await verifyRepo(blocks, head)
    expect(out.records.map((r) => r.key)).toEqual([k0[0]])
  })

  it('rejects keys of different heights in one node', async () => {
    const [a, b] = [k0[0], k1].sort()
    const node = {
      e: [
        { k: enc(a), p: 0, t: null, v: recordCid },
        { k: enc(b.slice(9)), p: 9, t: null, v: recordCid },
      ],
      l: null,
    }
    const { blocks, head } = repoWithRoot(node)
    await expect(verifyRepo(blocks, head)).rejects.toBeInstanceOf(InvalidMstNodeError)
  })

  it('rejects a non-canonical prefix compression', async () => {
    const node = {
      e: [
        { k: enc(k0[0]), p: 0, t: null, v: recordCid },
        { k: enc(k0[1]), p: 0, t: null, v: recordCid },
      ],
      l: null,
    }
    const { blocks, head } = repoWithRoot(node)
    await expect(verifyRepo(blocks, head)).rejects.toThrow(/canonical/)
  })

  it('rejects an empty root pointing to a sub-tree, and a missing record', async () => {
    const leaf = { e: [{ k: enc(k0[0]), p: 0, t: null, v: recordCid }], l: null }
    const leafCid = cidForBytes(encodeCbor(leaf))
    const { blocks, head } = repoWithRoot({ e: [], l: leafCid })
    blocks.set(leafCid, encodeCbor(leaf))
    await expect(verifyRepo(blocks, head)).rejects.toBeInstanceOf(InvalidMstNodeError)
    const missing = repoWithRoot(leaf, false)
    await expect(verifyRepo(missing.blocks, missing.head)).rejects.toBeInstanceOf(MissingBlocksError)
    expect((await verifyRepo(missing.blocks, missing.head, { ensureLeaves: false })).records).toHaveLength(1)
  })
})
