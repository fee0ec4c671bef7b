import {
  MemoryIdentityCache,
  MemoryOAuthClientStore,
  MemoryOAuthStore,
  MemoryPlcStore,
  type RateLimitStore,
  type StorageAdapter,
} from '@next-atproto/core'
import { MemoryAccountStore } from './accounts.js'
import { MemoryBlobMetaStore } from './blobs.js'
import { MemoryCommunityHandleStore } from './community-handles.js'
import { MemoryIndexerStore } from './indexer.js'
import { MemoryInviteCodeStore } from './invites.js'
import { MemoryHostUserStore, MemoryTakedownStore } from './moderation.js'
import { MemoryRepoStore } from './repo.js'
import { MemorySequencer } from './sequencer.js'

class MemoryRateLimits implements RateLimitStore {
  readonly #windows = new Map<string, { count: number; resetAt: Date }>()

  async hit(key: string, windowMs: number) {
    const now = Date.now()
    // Forget ended windows now and then, so one-off keys (IPs) do not accumulate forever.
    if (this.#windows.size > 10_000) {
      for (const [k, w] of this.#windows) if (w.resetAt.getTime() <= now) this.#windows.delete(k)
    }
    let w = this.#windows.get(key)
    if (!w || w.resetAt.getTime() <= now) {
      w = { count: 0, resetAt: new Date(now + windowMs) }
      this.#windows.set(key, w)
    }
    w.count++
    return { count: w.count, resetAt: w.resetAt }
  }
}

/**
 * Everything in memory: for unit tests and throwaway demos. Nothing survives a restart; one process only.
 */
export function memoryAdapter(): StorageAdapter {
  const sequencer = new MemorySequencer()
  return {
    id: 'memory',
    repo: new MemoryRepoStore(sequencer),
    accounts: new MemoryAccountStore(),
    sequencer,
    blobs: new MemoryBlobMetaStore(),
    rateLimits: new MemoryRateLimits(),
    oauth: new MemoryOAuthStore(),
    oauthClient: new MemoryOAuthClientStore(),
    plc: new MemoryPlcStore(),
    identityCache: new MemoryIdentityCache(),
    indexer: new MemoryIndexerStore(),
    inviteCodes: new MemoryInviteCodeStore(),
    takedowns: new MemoryTakedownStore(),
    hostUsers: new MemoryHostUserStore(),
    communityHandles: new MemoryCommunityHandleStore(),
    async check() {},
    async close() {},
  }
}
