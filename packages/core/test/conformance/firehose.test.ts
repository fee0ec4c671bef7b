import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { CID } from '../../src/data/cid.js'
import { MemoryBlockStore } from '../../src/repo/block-store.js'
import { Mst } from '../../src/repo/mst.js'
import { coveringProof, invertOps, type RecordOp } from '../../src/repo/proof.js'

interface Case {
  comment: string
  leafValue: string
  keys: string[]
  adds: string[]
  dels: string[]
  rootBeforeCommit: string
  rootAfterCommit: string
  blocksInProof: string[]
}

const cases: Case[] = JSON.parse(
  readFileSync(
    fileURLToPath(new URL('../interop/firehose/commit-proof-fixtures.json', import.meta.url)),
    'utf8',
  ),
)

async function build(c: Case) {
  const leaf = CID.parse(c.leafValue)
  let before = Mst.create(new MemoryBlockStore())
  for (const k of c.keys) before = await before.add(k, leaf)
  let after = before
  for (const k of c.adds) after = await after.add(k, leaf)
  for (const k of c.dels) after = await after.delete(k)
  const ops: RecordOp[] = [
    ...c.adds.map((path): RecordOp => ({ action: 'create', path, cid: leaf })),
    ...c.dels.map((path): RecordOp => ({ action: 'delete', path, cid: null, prev: leaf })),
  ]
  return { leaf, before, after, ops, proof: await coveringProof(after, [...c.adds, ...c.dels]) }
}

describe('interop firehose/commit-proof-fixtures.json', () => {
  for (const c of cases) {
    describe(c.comment, () => {
      it('rootBeforeCommit from the keys', async () => {
        const { before } = await build(c)
        expect(before.rootCid.toString()).toBe(c.rootBeforeCommit)
      })

      it('rootAfterCommit after the adds and dels', async () => {
        const { after } = await build(c)
        expect(after.rootCid.toString()).toBe(c.rootAfterCommit)
      })

      it('blocksInProof is exactly our covering proof', async () => {
        const { proof } = await build(c)
        expect(
          proof
            .cids()
            .map((x) => x.toString())
            .sort(),
        ).toEqual([...c.blocksInProof].sort())
      })

      it('inverting the commit from only the proof blocks gives rootBeforeCommit', async () => {
        const { proof, ops } = await build(c)
        const partial = await Mst.load(new MemoryBlockStore(proof), CID.parse(c.rootAfterCommit))
        const inverted = await invertOps(partial, ops)
        expect(inverted.rootCid.toString()).toBe(c.rootBeforeCommit)
      })
    })
  }
})
