/**
 * The storage interface every adapter implements (packages/adapters), with its errors and guards.
 * @module
 */
import { StorageCapabilityError } from './errors.js'
import type { StorageAdapter } from './types.js'

export * from './errors.js'
export type * from './types.js'

/** The adapter's OAuth store, or a clear error when the adapter has none. */
export function asOAuthStore(storage: StorageAdapter): NonNullable<StorageAdapter['oauth']> {
  if (!storage.oauth) throw new StorageCapabilityError(`storage adapter ${storage.id} has no OAuth store`)
  return storage.oauth
}

/** The adapter's PLC store, or a clear error when the adapter has none. */
export function asPlcStore(storage: StorageAdapter): NonNullable<StorageAdapter['plc']> {
  if (!storage.plc) throw new StorageCapabilityError(`storage adapter ${storage.id} has no PLC store`)
  return storage.plc
}
