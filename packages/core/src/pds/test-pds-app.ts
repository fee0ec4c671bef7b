/**
 * An in-process PDS for tests: the given storage (memory unless given), memory blobs, its own PLC
 * directory under /plc, and `fetch` looped back into the app so nothing leaves the process. Options
 * override or extend the PDS's (rate limits are off unless set).
 */
import { MemoryBlobStore, memoryAdapter } from '@next-atproto/adapters'
import { type Atproto, createAtproto } from '../atproto.js'
import { plcService } from '../plc/service.js'
import type { StorageAdapter } from '../storage/types.js'
import { type PdsOptions, type PdsService, pds } from './index.js'
import { AccountSigningKey } from './signing-key.js'

/** Options of {@link inProcessPds}. */
export interface InProcessPdsOptions extends Partial<PdsOptions> {
  /** Public URL the app believes it has (default `http://pds.test`). */
  publicUrl?: string
}

/** Build (not start) an in-process PDS app; returns it with its storage and PDS service. */
export function inProcessPds(options: InProcessPdsOptions = {}): {
  app: Atproto
  storage: StorageAdapter
  service: PdsService
} {
  const { publicUrl = 'http://pds.test', storage = memoryAdapter(), ...pdsOptions } = options
  const service = pds({
    blobstore: new MemoryBlobStore(),
    jwtSecret: 'x'.repeat(32),
    handleDomains: ['.test'],
    plcUrl: `${publicUrl}/plc`,
    plcRotationKey: AccountSigningKey.generate(),
    rateLimits: false,
    fetch: (input, init) => app.fetch(new Request(input as string, init)),
    ...pdsOptions,
    storage,
  })
  const app: Atproto = createAtproto({ publicUrl, services: [plcService({ store: storage.plc! }), service] })
  return { app, storage, service }
}
