/**
 * @next-atproto/adapters: storage for @next-atproto/core.
 * @packageDocumentation
 */

export { DiskBlobStore, type DiskBlobStoreOptions } from './blob/disk.js'
export { BlobTooLargeError, MemoryBlobStore } from './memory/blobstore.js'
export { memoryAdapter } from './memory/index.js'
export {
  migrate as migrateAtproto,
  type PgListenConfig,
  type PrismaAdapterOptions,
  type PrismaClientLike,
  PrismaOAuthClientStore,
  type PrismaProvider,
  type PrismaStorageAdapter,
  prismaAdapter,
} from './prisma/index.js'
