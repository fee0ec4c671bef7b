/**
 * The storage contract as test suites: any adapter, including a user's own, runs them inside a vitest
 * file with `runStorageConformance({ name, create })` (and `runBlobStoreConformance` for blob bytes).
 * @module
 */
import type { StorageAdapter } from '@next-atproto/core'
import { afterAll, beforeAll, describe } from 'vitest'
import { accountSuite } from './accounts.js'
import { blobMetaSuite } from './blobs.js'
import { communityHandleSuite } from './community-handles.js'
import type { SuiteContext } from './fixtures.js'
import { moderationSuite } from './moderation.js'
import { oauthClientSuite } from './oauth-client.js'
import { repoSuite } from './repo.js'
import { sequencerSuite } from './sequencer.js'
import { stateSuite } from './state.js'

export {
  type BlobStoreConformanceOptions,
  readAll,
  runBlobStoreConformance,
  streamOf,
} from './blob-store.js'

/** Options of {@link runStorageConformance}. */
export interface StorageConformanceOptions {
  name: string
  /** A fresh, migrated, empty adapter (called once for the whole suite). */
  create: () => Promise<StorageAdapter>
  /** Release what `create` made (drop databases, delete files); `close()` is called after it. */
  cleanup?: (adapter: StorageAdapter) => Promise<void>
}

/**
 * Register the storage contract tests for one adapter: atomic commits, per-DID serialization,
 * single-use consumption races, a gap-free sequencer, stable pagination and each domain's CRUD. Parts
 * an adapter does not provide (oauth, plc, identityCache, indexer, paged block export) are exercised
 * only when present. Tests share one adapter and use fresh DIDs; the sequencer block runs last
 * because it tests retention by deleting old events.
 */
export function runStorageConformance(options: StorageConformanceOptions): void {
  describe(`storage contract: ${options.name}`, () => {
    const ctx = {} as SuiteContext
    beforeAll(async () => {
      ctx.storage = await options.create()
      await ctx.storage.check()
    })
    afterAll(async () => {
      if (!ctx.storage) return
      await options.cleanup?.(ctx.storage)
      await ctx.storage.close()
    })
    describe('repo', () => repoSuite(ctx))
    describe('accounts', () => accountSuite(ctx))
    describe('blob metadata', () => blobMetaSuite(ctx))
    describe('rate limits and optional state', () => stateSuite(ctx))
    describe('takedowns and host users', () => moderationSuite(ctx))
    describe('community handles', () => communityHandleSuite(ctx))
    describe('OAuth client store', () => oauthClientSuite(ctx))
    describe('sequencer', () => sequencerSuite(ctx))
  })
}
