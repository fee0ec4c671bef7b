import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { DiskBlobStore, prismaAdapter } from '@next-atproto/adapters'
import {
  AccountSigningKey,
  type Atproto,
  createAtproto,
  type PdsService,
  pds,
  plcService,
  type StorageAdapter,
} from '@next-atproto/core'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaClient } from '../prisma/generated/client'
import { migrateForum } from './forum-db'
import { createForumOAuth } from './oauth'

// One instance per process: Next's route bundles and the custom server may each load this module,
// and they must share one app (one firehose, one database pool).
const globalForAtproto = globalThis as unknown as {
  forum?: Forum
  forumStorage?: WeakMap<Atproto, StorageAdapter>
}
const storages = (globalForAtproto.forumStorage ??= new WeakMap())

/** The storage an app made by {@link createForumAtproto} runs on (the pages read it through tRPC). */
export function storageOf(app: Atproto): StorageAdapter {
  const storage = storages.get(app)
  if (!storage) throw new Error('not an app made by createForumAtproto')
  return storage
}

/** The forum's server-side parts: the atproto app, its Prisma client, and the PDS (for its host API). */
export interface Forum {
  atproto: Atproto
  prisma: PrismaClient
  pds: PdsService
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
  return createForum(options).atproto
}

/** The forum: its atproto app, its database client and the PDS service. */
export function createForum(options: ForumAtprotoOptions = {}): Forum {
  const publicUrl =
    options.publicUrl ?? process.env.PUBLIC_URL ?? `http://localhost:${process.env.PORT ?? 3000}`
  const dataDir = resolve(options.dataDir ?? process.env.DATA_DIR ?? 'data')
  mkdirSync(dataDir, { recursive: true })
  const prisma = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${dataDir}/forum.db` }) })
  // WAL: the forum's schema changes run at start-up (migrate below), never through the Prisma CLI.
  const storage = prismaAdapter(prisma, { provider: 'sqlite', sqliteWal: true })
  const secrets = devSecrets(dataDir)
  // Development runs its own PLC directory under /plc; the PDS reaches it in-process (no network).
  const plcUrl = process.env.PLC_URL ?? `${publicUrl}/plc`
  // OAuth for third-party apps; the PDS then accepts its DPoP-bound tokens beside session JWTs.
  let forumPds: PdsService | undefined
  const forumOAuth = createForumOAuth({ store: storage.oauth!, pds: () => forumPds!, publicUrl, dataDir })
  forumPds = pds({
    oauth: forumOAuth.oauth,
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
  })
  const app: Atproto = createAtproto({
    publicUrl,
    // Outside production, every JSON output and firehose message is checked against its lexicon.
    validateOutput: process.env.NODE_ENV !== 'production',
    services: [
      // The atproto tables are the adapter's, the forum's own are its own: bring both up to date first.
      { name: 'migrate', setup: async () => void (await storage.migrate()) },
      { name: 'forum-migrate', setup: async () => void (await migrateForum(prisma)) },
      plcService({ store: storage.plc! }),
      forumOAuth.oauth,
      forumPds,
      forumOAuth.sessionRoutes,
    ],
  })
  storages.set(app, storage)
  return { atproto: app, prisma, pds: forumPds }
}

export const forum: Forum = (globalForAtproto.forum ??= createForum())
export const atproto: Atproto = forum.atproto
