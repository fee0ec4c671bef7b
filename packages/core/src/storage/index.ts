/**
 * The storage interface every adapter implements (packages/adapters), with its errors, guards and the
 * helpers core derives from the adapters' primitives.
 * @module
 */
import { StorageCapabilityError } from './errors.js'
import type {
  CommunityHandleStore,
  HostUserStore,
  IndexerStore,
  InviteCodeStore,
  StorageAdapter,
  TakedownStore,
} from './types.js'

export * from './errors.js'
export { exportRepoBlocks } from './export.js'
export { sniffMimeType } from './mime.js'
export type * from './types.js'

function need<T>(part: T | undefined, storage: StorageAdapter, what: string): T {
  if (!part) {
    throw new StorageCapabilityError(
      `storage adapter ${storage.id} has no ${what}; use an adapter that provides it (prismaAdapter and memoryAdapter do)`,
    )
  }
  return part
}

/** The adapter's OAuth store, or a clear error when the adapter has none. */
export function asOAuthStore(storage: StorageAdapter): NonNullable<StorageAdapter['oauth']> {
  return need(storage.oauth, storage, 'OAuth store')
}

/** The adapter's OAuth client store (sessions of users signed in to an AppView), or a clear error. */
export function asOAuthClientStore(storage: StorageAdapter): NonNullable<StorageAdapter['oauthClient']> {
  return need(storage.oauthClient, storage, 'OAuth client store')
}

/** The adapter's PLC store, or a clear error when the adapter has none. */
export function asPlcStore(storage: StorageAdapter): NonNullable<StorageAdapter['plc']> {
  return need(storage.plc, storage, 'PLC store')
}

/** The adapter's identity cache, or a clear error when the adapter has none. */
export function asIdentityCache(storage: StorageAdapter): NonNullable<StorageAdapter['identityCache']> {
  return need(storage.identityCache, storage, 'identity cache')
}

/** The adapter's AppView indexer store, or a clear error when the adapter has none. */
export function asIndexerStore(storage: StorageAdapter): IndexerStore {
  return need(storage.indexer, storage, 'indexer store')
}

/** The adapter's invite code store, or a clear error when the adapter has none. */
export function asInviteCodeStore(storage: StorageAdapter): InviteCodeStore {
  return need(storage.inviteCodes, storage, 'invite code store')
}

/** The adapter's takedown store, or a clear error when the adapter has none. */
export function asTakedownStore(storage: StorageAdapter): TakedownStore {
  return need(storage.takedowns, storage, 'takedown store')
}

/** The adapter's host-user links, or a clear error when the adapter has none. */
export function asHostUserStore(storage: StorageAdapter): HostUserStore {
  return need(storage.hostUsers, storage, 'host user store')
}

/** The adapter's community handle store, or a clear error when the adapter has none. */
export function asCommunityHandleStore(storage: StorageAdapter): CommunityHandleStore {
  return need(storage.communityHandles, storage, 'community handle store')
}
