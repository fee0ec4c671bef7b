import { randomBytes } from 'node:crypto'
import { MemoryBlobStore, memoryAdapter } from '@next-atproto/adapters'
import { AccountSigningKey, type Atproto, createAtproto, pds, plcService } from '@next-atproto/core'

// One instance per process: Next's route bundles and the custom server may each load this module,
// and they must share one app (one firehose, one database pool).
const globalForAtproto = globalThis as unknown as { forumAtproto?: Atproto }

/** The forum's atproto app: PDS for its members, with a local PLC directory for development. */
export function createForumAtproto(
  publicUrl = process.env.PUBLIC_URL ?? `http://localhost:${process.env.PORT ?? 3000}`,
): Atproto {
  const storage = memoryAdapter()
  // Development runs its own PLC directory under /plc; the PDS reaches it in-process (no network).
  const plcUrl = process.env.PLC_URL ?? `${publicUrl}/plc`
  const app: Atproto = createAtproto({
    publicUrl,
    services: [
      plcService({ store: storage.plc! }),
      pds({
        storage,
        blobstore: new MemoryBlobStore(),
        jwtSecret: process.env.JWT_SECRET ?? randomBytes(32).toString('hex'),
        handleDomains: ['.test'],
        plcUrl,
        plcRotationKey: AccountSigningKey.generate(),
        fetch: (input, init) => {
          const request = new Request(input, init)
          return request.url.startsWith(publicUrl) ? app.fetch(request) : fetch(request)
        },
      }),
    ],
  })
  return app
}

export const atproto: Atproto = (globalForAtproto.forumAtproto ??= createForumAtproto())
