import { describe, expect, it } from 'vitest'
import { encodeCbor } from '../data/cbor.js'
import { type CID, cidForBytes } from '../data/cid.js'
import { MemoryBlockStore } from './block-store.js'
import { InversionError } from './errors.js'
import { Mst } from './mst.js'
import { coveringProof, invertOps, type RecordOp } from './proof.js'

function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const val = (i: number): CID => cidForBytes(encodeCbor({ i }))
const key = (r: () => number) => `com.example.rec/${Math.floor(r() * 1e9).toString(36)}`

describe('sync 1.1 proofs on random commits', () => {
  for (let seed = 1; seed <= 150; seed++) {
    it(`seed ${seed}: the covering proof alone inverts the commit to prevData`, async () => {
      const r = rng(seed)
      const keys = [...new Set(Array.from({ length: Math.floor(r() * 300) }, () => key(r)))]
      const { tree: before } = await Mst.create(new MemoryBlockStore()).applyWrites(
        keys.map((k, i) => ({ key: k, cid: val(i) })),
      )
      const ops: RecordOp[] = []
      const touched = new Set<string>()
      for (let i = 0, n = 1 + Math.floor(r() * 10); i < n; i++) {
        const roll = r()
        const existing = keys[Math.floor(r() * keys.length)]
        if (keys.length > 0 && roll < 0.3 && !touched.has(existing)) {
          ops.push({ action: 'delete', path: existing, cid: null, prev: await before.get(existing) })
          touched.add(existing)
        } else if (keys.length > 0 && roll < 0.5 && !touched.has(existing)) {
          ops.push({
            action: 'update',
            path: existing,
            cid: val(10_000 + i),
            prev: await before.get(existing),
          })
          touched.add(existing)
        } else {
          const k = key(r)
          if (touched.has(k) || keys.includes(k)) continue
          ops.push({ action: 'create', path: k, cid: val(20_000 + i) })
          touched.add(k)
        }
      }
      const { tree: after } = await before.applyWrites(ops.map((o) => ({ key: o.path, cid: o.cid })))
      const proof = await coveringProof(
        after,
        ops.map((o) => o.path),
      )
      const partial = await Mst.load(new MemoryBlockStore(proof), after.rootCid)
      expect((await invertOps(partial, ops)).rootCid.toString()).toBe(before.rootCid.toString())
      if (ops.length > 1) {
        // Dropping an op makes the inversion fail or land elsewhere.
        const partial2 = await Mst.load(new MemoryBlockStore(proof), after.rootCid)
        const res = await invertOps(partial2, ops.slice(1)).then(
          (t) => t.rootCid.toString(),
          (e) => (e instanceof InversionError ? 'error' : Promise.reject(e)),
        )
        expect(res).not.toBe(before.rootCid.toString())
      }
    })
  }
})
