import { describe, expect, it } from 'vitest'
import { runBlobStoreConformance } from '../testing/blob-store.js'
import { runStorageConformance } from '../testing/conformance.js'
import { MemoryBlobStore } from './blobstore.js'
import { memoryAdapter } from './index.js'

runStorageConformance({ name: 'memory', create: async () => memoryAdapter() })
runBlobStoreConformance({ name: 'memory', create: async () => new MemoryBlobStore() })

describe('memoryAdapter', () => {
  it('provides every optional part, so the conditional contract tests all run on it', async () => {
    const storage = memoryAdapter()
    expect(
      storage.oauth &&
        storage.plc &&
        storage.identityCache &&
        storage.indexer &&
        storage.inviteCodes &&
        storage.takedowns &&
        storage.hostUsers,
    ).toBeTruthy()
    expect(storage.sequencer.earliestAfter).toBeTypeOf('function')
    expect(await storage.repo.read('did:plc:x', async (r) => r.exportBlocks !== undefined)).toBe(true)
  })
})
