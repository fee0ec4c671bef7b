import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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
