import { describe, expect, it } from 'vitest'
import { cidForBytes } from '../data/cid.js'
import { BlockMap } from '../repo/block-map.js'
import {
  asIndexerStore,
  asInviteCodeStore,
  asOAuthStore,
  exportRepoBlocks,
  HandleTakenError,
  StorageCapabilityError,
  sniffMimeType,
  UniqueConstraintError,
} from './index.js'
import type { RepoReader, StorageAdapter } from './types.js'

const bytes = (...parts: Array<number[] | string>) =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)))

describe('sniffMimeType', () => {
  it.each([
    [bytes([0xff, 0xd8, 0xff, 0xe0]), 'image/jpeg'],
    [bytes([0x89], 'PNG', [0x0d, 0x0a, 0x1a, 0x0a]), 'image/png'],
    [bytes('GIF89a'), 'image/gif'],
    [bytes('RIFF', [0, 0, 0, 0], 'WEBP'), 'image/webp'],
    [bytes([0, 0, 0, 0x1c], 'ftypavif'), 'image/avif'],
    [bytes([0, 0, 0, 0x1c], 'ftypheic'), 'image/heic'],
    [bytes([0, 0, 0, 0x18], 'ftypisom'), 'video/mp4'],
    [bytes([0, 0, 0, 0x14], 'ftypqt  '), 'video/quicktime'],
    [bytes([0x1a, 0x45, 0xdf, 0xa3]), 'video/webm'],
    [bytes('%PDF-1.7'), 'application/pdf'],
    [bytes('hello'), undefined],
    [new Uint8Array(0), undefined],
  ])('%#: %s', (head, mime) => {
    expect(sniffMimeType(head)).toBe(mime)
  })
})

describe('exportRepoBlocks', () => {
  const block = (n: number) => {
    const b = new Uint8Array([0xa1, 0x61, 0x6e, n])
    return { cid: cidForBytes(b), bytes: b }
  }

  it('falls back to blocksSince in one page when the adapter cannot page', async () => {
    const all = new BlockMap()
    for (const b of [block(1), block(2)]) all.set(b.cid, b.bytes)
    const sinceArgs: string[] = []
    const reader = {
      async blocksSince(since: string) {
        sinceArgs.push(since)
        return all
      },
    } as unknown as RepoReader
    const pages: BlockMap[] = []
    for await (const page of exportRepoBlocks(reader)) pages.push(page)
    expect(pages).toEqual([all])
    expect(sinceArgs).toEqual(['']) // every TID sorts after ''
  })

  it('follows the adapter cursor until it is null', async () => {
    const calls: Array<string | undefined> = []
    const reader = {
      async exportBlocks({ after }: { after?: string }) {
        calls.push(after)
        const b = block(calls.length)
        return {
          blocks: new BlockMap().set(b.cid, b.bytes),
          cursor: calls.length < 3 ? `c${calls.length}` : null,
        }
      },
    } as unknown as RepoReader
    let n = 0
    for await (const page of exportRepoBlocks(reader, { since: 'r', pageSize: 1 })) n += page.size
    expect(n).toBe(3)
    expect(calls).toEqual([undefined, 'c1', 'c2'])
  })
})

describe('guards and errors', () => {
  const bare = { id: 'bare' } as StorageAdapter

  it('names the adapter and the missing part', () => {
    expect(() => asOAuthStore(bare)).toThrow(StorageCapabilityError)
    expect(() => asIndexerStore(bare)).toThrow(/bare has no indexer store/)
    expect(() => asInviteCodeStore(bare)).toThrow(/invite code store/)
  })

  it('HandleTakenError is a UniqueConstraintError on the handle field', () => {
    const err = new HandleTakenError('alice.test')
    expect(err).toBeInstanceOf(UniqueConstraintError)
    expect(err).toMatchObject({ name: 'HandleTakenError', field: 'handle', handle: 'alice.test' })
  })
})
