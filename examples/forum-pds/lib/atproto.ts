import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { DiskBlobStore, prismaAdapter } from '@next-atproto/adapters'
import {
  AccountSigningKey,
  type Atproto,
  createAtproto,
  pds,
  plcService,
  type StorageAdapter,
} from '@next-atproto/core'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaClient } from '../prisma/generated/client'

// One instance per process: Next's route bundles and the custom server may each load this module,
// and they must share one app (one firehose, one database pool).
const globalForAtproto = globalThis as unknown as {
  forumAtproto?: Atproto
  forumStorage?: WeakMap<Atproto, StorageAdapter>
}
const storages = (globalForAtproto.forumStorage ??= new WeakMap())

/** The storage an app made by {@link createForumAtproto} runs on (the pages read it through tRPC). */
export function storageOf(app: Atproto): StorageAdapter {
  const storage = storages.get(app)
  if (!storage) throw new Error('not an app made by createForumAtproto')
  return storage
}

/** Options of {@link createForumAtproto}. */
export interface ForumAtprotoOptions {
  publicUrl?: string
  /** Folder of the SQLite database (default `DATA_DIR` or ./data). */
  dataDir?: string
}

/**
 * Development secrets, kept in the data folder so sessions and the PLC rotation key survive restarts.
 * Production sets JWT_SECRET and PLC_ROTATION_KEY (hex) from its secret store instead.
 */
function devSecrets(dataDir: string): { jwtSecret: string; plcRotationKey: string } {
  const file = `${dataDir}/secrets.json`
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'))
  const secrets = {
    jwtSecret: randomBytes(32).toString('hex'),
    plcRotationKey: Buffer.from(AccountSigningKey.generate().privateKey).toString('hex'),
  }
  writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 })
  return secrets
}

/** The forum's atproto app: PDS for its members, with a local PLC directory for development. */
export function createForumAtproto(options: ForumAtprotoOptions = {}): Atproto {
  const publicUrl =
    options.publicUrl ?? process.env.PUBLIC_URL ?? `http://localhost:${process.env.PORT ?? 3000}`
  const dataDir = resolve(options.dataDir ?? process.env.DATA_DIR ?? 'data')
  mkdirSync(dataDir, { recursive: true })
  const prisma = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${dataDir}/forum.db` }) })
  const storage = prismaAdapter(prisma, { provider: 'sqlite' })
  const secrets = devSecrets(dataDir)
  // Development runs its own PLC directory under /plc; the PDS reaches it in-process (no network).
  const plcUrl = process.env.PLC_URL ?? `${publicUrl}/plc`
  const app: Atproto = createAtproto({
    publicUrl,
    // Outside production, every JSON output and firehose message is checked against its lexicon.
    validateOutput: process.env.NODE_ENV !== 'production',
    services: [
      // The atproto tables are the adapter's: bring them up to date before anything uses them.
      { name: 'migrate', setup: async () => void (await storage.migrate()) },
      plcService({ store: storage.plc! }),
      pds({
        storage,
        blobstore: new DiskBlobStore({ location: `${dataDir}/blobs` }),
        jwtSecret: process.env.JWT_SECRET ?? secrets.jwtSecret,
        handleDomains: ['.test'],
        plcUrl,
        plcRotationKey: AccountSigningKey.fromBytes(
          Buffer.from(process.env.PLC_ROTATION_KEY ?? secrets.plcRotationKey, 'hex'),
        ),
        fetch: (input, init) => {
          const request = new Request(input, init)
          return request.url.startsWith(publicUrl) ? app.fetch(request) : fetch(request)
        },
      }),
    ],
  })
  storages.set(app, storage)
  return app
}

export const atproto: Atproto = (globalForAtproto.forumAtproto ??= createForumAtproto())
