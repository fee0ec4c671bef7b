import { randomUUID } from 'node:crypto'
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CID } from '@next-atproto/core'
import { describe, expect, it } from 'vitest'
import { runBlobStoreConformance, streamOf } from '../testing/blob-store.js'
import { DiskBlobStore } from './disk.js'

const roots = new Map<DiskBlobStore, string>()

runBlobStoreConformance({
  name: 'disk',
  async create() {
    const location = await mkdtemp(join(tmpdir(), 'blobs-'))
    const store = new DiskBlobStore({ location, fsync: false })
    roots.set(store, location)
    return store
  },
  async cleanup(store) {
    await rm(roots.get(store as DiskBlobStore)!, { recursive: true, force: true })
  },
})

describe('DiskBlobStore layout', () => {
  it('shards permanent files by the end of the CID and leaves no temp file behind', async () => {
    const location = await mkdtemp(join(tmpdir(), 'blobs-'))
    try {
      const store = new DiskBlobStore({ location })
      const { key, cid } = await store.putTemp(streamOf(new TextEncoder().encode('hello disk')))
      await store.makePermanent(key, cid)
      const s = cid.toString()
      expect(await readdir(join(location, 'blobs', s.slice(-2)))).toEqual([s])
      expect(await readdir(join(location, 'tmp'))).toEqual([])
    } finally {
      await rm(location, { recursive: true, force: true })
    }
  })
})

describe('DiskBlobStore garbage collection', () => {
  it('settles files an interrupted collection left in the trash, and leaves a collection in progress alone', async () => {
    const location = await mkdtemp(join(tmpdir(), 'blobs-'))
    try {
      const store = new DiskBlobStore({ location, fsync: false })
      const keep = new TextEncoder().encode('referenced again')
      const drop = new TextEncoder().encode('nobody holds me')
      const recent = new TextEncoder().encode('being collected right now')
      const cids = []
      for (const bytes of [keep, drop, recent]) {
        const { key, cid } = await store.putTemp(streamOf(bytes))
        await store.makePermanent(key, cid)
        cids.push(cid)
      }
      const [keepCid, dropCid, recentCid] = cids as [CID, CID, CID]
      // Move the files aside as a collection does, as if it had stopped before checking.
      await mkdir(join(location, 'trash'))
      const old = Date.now() - 3_600_000
      const aside = (cid: CID, at: number) => join(location, 'trash', `${at}.${randomUUID()}.${cid}`)
      const path = (cid: CID) => join(location, 'blobs', cid.toString().slice(-2), cid.toString())
      await rename(path(keepCid), aside(keepCid, old))
      await rename(path(dropCid), aside(dropCid, old))
      await rename(path(recentCid), aside(recentCid, Date.now()))
      const checked: string[] = []
      const deleted = await store.deleteUnreferenced([], async (asked) => {
        checked.push(...asked.map(String))
        return asked.filter((c) => c.equals(dropCid))
      })
      expect(deleted.map(String)).toEqual([dropCid.toString()])
      expect(checked.sort()).toEqual([keepCid.toString(), dropCid.toString()].sort())
      expect(await store.get(keepCid)).not.toBeNull()
      expect(await store.get(dropCid)).toBeNull()
      expect(await readdir(join(location, 'trash'))).toHaveLength(1) // the one in progress
    } finally {
      await rm(location, { recursive: true, force: true })
    }
  })
})
