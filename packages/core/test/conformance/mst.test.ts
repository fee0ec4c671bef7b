import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { MST as RefMst, MemoryBlockstore as RefStore } from '@atproto/repo'
import { describe, expect, it } from 'vitest'
import { CID } from '../../src/data/cid.js'
import { MemoryBlockStore } from '../../src/repo/block-store.js'
import { Mst } from '../../src/repo/mst.js'
import { commonPrefixLength, isValidMstKey, keyHeight, keyHeightOfString } from '../../src/repo/mst-node.js'

const dir = fileURLToPath(new URL('../interop/mst/', import.meta.url))
const keyHeights: { key: string; height: number }[] = JSON.parse(
  readFileSync(`${dir}key_heights.json`, 'utf8'),
)
const commonPrefix: { left: string; right: string; len: number }[] = JSON.parse(
  readFileSync(`${dir}common_prefix.json`, 'utf8'),
)
const exampleKeys = readFileSync(`${dir}example_keys.txt`, 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l.length > 0 && !l.startsWith('#'))

const leaf = CID.parse('bafyreie5cvv4h45feadgeuwhbcutmh6t2ceseocckahdoe6uat64zmz454')

describe('interop mst/key_heights.json', () => {
  for (const { key, height } of keyHeights) {
    it(`height of ${JSON.stringify(key)} is ${height}`, () => {
      expect(keyHeightOfString(key)).toBe(height)
      if (isValidMstKey(key)) expect(keyHeight(key)).toBe(height)
    })
  }
})

describe('interop mst/common_prefix.json', () => {
  for (const { left, right, len } of commonPrefix) {
    it(`common prefix of ${JSON.stringify(left)} and ${JSON.stringify(right)} is ${len}`, () => {
      expect(commonPrefixLength(left, right)).toBe(len)
    })
  }
})

// example_keys.txt carries no expected answers: it is tree-building input. Each key is checked
// against the reference's height function, and the whole set builds the reference's root.
describe('interop mst/example_keys.txt', () => {
  for (const key of exampleKeys) {
    it(`key ${key} is valid and has the reference height`, async () => {
      expect(isValidMstKey(key)).toBe(true)
      const { leadingZerosOnHash } = await import('@atproto/repo/dist/mst/util.js')
      expect(keyHeight(key)).toBe(await leadingZerosOnHash(new TextEncoder().encode(key)))
    })
  }

  it('all example keys, in any insertion order, build the reference root', async () => {
    let ref = await RefMst.create(new RefStore())
    for (const key of exampleKeys) ref = await ref.add(key, leaf as any)
    const expected = (await ref.getPointer()).toString()
    for (const seed of [1, 2, 3]) {
      const order = shuffle(exampleKeys, seed)
      let tree = Mst.create(new MemoryBlockStore())
      for (const key of order) tree = await tree.add(key, leaf)
      expect(tree.rootCid.toString()).toBe(expected)
      expect((await tree.list()).map((e) => e.key)).toEqual([...exampleKeys].sort())
    }
  })
})

function shuffle<T>(arr: readonly T[], seed: number): T[] {
  const out = arr.slice()
  let s = seed
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff
    const j = s % (i + 1)
    ;[out[i], out[j]] = [out[j], out[i]]
  }
  return out
}
