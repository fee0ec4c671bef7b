import { type StorageAdapter, StorageNotMigratedError, StorageUnavailableError } from '@next-atproto/core'
import { PrismaAccountStore } from './accounts.js'
import { PrismaBlobMetaStore, PrismaRateLimits } from './blobs.js'
import type { PrismaClientLike, PrismaProvider } from './client.js'
import { hasCommunityModels, PrismaCommunityHandleStore } from './community.js'
import { keyColumnFix, keyColumnProblem } from './key-columns.js'
import { appliedMigrations, migrate, migrationNames } from './migrate.js'
import { hasModerationModels, PrismaHostUserStore, PrismaTakedownStore } from './moderation.js'
import { type PgListenConfig, PgListener, pgConfigOfClient } from './notify.js'
import { hasOAuthModels, PrismaOAuthStore } from './oauth.js'
import { hasOAuthClientModels, PrismaOAuthClientStore } from './oauth-client.js'
import { PrismaPlcStore } from './plc.js'
import { PrismaRepoStore } from './repo.js'
import { PrismaSequencer } from './sequencer.js'
import { withTransactionDiscipline } from './serialize.js'
import { SqliteAccountStore, SqliteTakedownStore } from './sqlite-accounts.js'
import { SqliteDirect } from './sqlite-direct.js'
import { SqliteRepoStore } from './sqlite-repo.js'
import { SqliteSequencer } from './sqlite-sequencer.js'
import { hasIdentityModels, hasIndexerModels, PrismaIdentityCache, PrismaIndexerStore } from './state.js'

export type { PrismaClientLike, PrismaProvider } from './client.js'
export { PrismaCommunityHandleStore } from './community.js'
export { migrate, migrationNames } from './migrate.js'
export type { PgListenConfig } from './notify.js'
export { PrismaOAuthStore } from './oauth.js'
export { PrismaOAuthClientStore } from './oauth-client.js'
export { indexerCursor, PrismaIdentityCache, PrismaIndexerStore } from './state.js'

/** Options of {@link prismaAdapter}. */
export interface PrismaAdapterOptions {
  provider: PrismaProvider
  /**
   * How the schema is managed: `'adapter'` (default) means the adapter's shipped migrations
   * (`migrateAtproto()` / `next-atproto-prisma migrate`); `'app'` means the fragment is part of the app's
   * own Prisma migrations, so start-up only checks that the tables exist.
   */
  migrations?: 'adapter' | 'app'
  /**
   * PostgreSQL only: the dedicated connection that LISTENs for events appended by other processes over
   * the same database, so every process's firehose delivers them within milliseconds (a slow poll stays
   * as the safety net). Default: the connection settings of the client's `@prisma/adapter-pg` driver
   * adapter. A connection string or `pg` client config overrides them (e.g. a direct connection when the
   * app goes through a transaction-mode pooler such as PgBouncer, which cannot LISTEN); `false` turns
   * it off, and other processes' events then arrive by polling (about a second).
   */
  listen?: false | PgListenConfig
  /**
   * SQLite only: put the database file in WAL mode (as the reference PDS does). A commit then appends to
   * the write-ahead log (one sync) instead of going through a rollback journal (several), and readers
   * never block the writer, with the same durability: about 2x the write rate here. Off by default
   * because the Prisma CLI (`prisma migrate dev`) cannot lock a WAL file another process holds open, which
   * breaks the usual loop of migrating while the dev server runs; turn it on where the app's schema
   * changes are applied with the app stopped (or by `adapter.migrate()`). The mode is stored in the file.
   */
  sqliteWal?: boolean
  /**
   * SQLite only, on `@prisma/adapter-better-sqlite3` over a file (default `true`): run commits, record and
   * block reads and the firehose log on the adapter's own better-sqlite3 connections to the same file
   * (opened through the client's driver adapter, so with its options), with prepared statements instead
   * of Prisma's query layer: a commit is one short synchronous write transaction, several times faster.
   * Same tables, same data: turning it off or on needs no migration. Multi-statement repo reads
   * (`getRepo`, `listRecords`) use it in WAL mode only. Other drivers and in-memory databases stay on
   * Prisma whatever this says.
   */
  sqliteDirect?: boolean
}

/** The storage adapter over the app's Prisma client (typed structurally: pass your own PrismaClient). */
export interface PrismaStorageAdapter extends StorageAdapter {
  /** Apply the adapter's pending migrations (when it manages its own tables). */
  migrate(): Promise<string[]>
  /**
   * Diagnostics of the SQLite direct connections (see `sqliteDirect`): null when the hot paths run on
   * Prisma (other databases, in-memory SQLite, turned off). `walCheckpoints` says who checkpoints the
   * WAL: `background` (a worker thread, off the request path), or `sqlite` (SQLite itself, inside the
   * commit that fills the log; also before the first write and outside WAL mode).
   */
  sqliteDirect(): Promise<{ walCheckpoints: 'background' | 'sqlite' } | null>
}

/**
 * Storage over Prisma on SQLite (the embedded default), PostgreSQL or MySQL/MariaDB. The client must be
 * generated from a schema that includes the atproto fragment (`npx next-atproto-prisma sync`).
 */
export function prismaAdapter(client: unknown, options: PrismaAdapterOptions): PrismaStorageAdapter {
  if (!client || typeof client !== 'object' || !('atprotoAccount' in client)) {
    throw new TypeError(
      'prismaAdapter: this PrismaClient has no atproto models; add them with `npx next-atproto-prisma sync` and regenerate the client',
    )
  }
  const { provider } = options
  const db = withTransactionDiscipline(client as PrismaClientLike, provider)
  const listenConfig =
    provider === 'postgresql' && options.listen !== false
      ? (options.listen ?? pgConfigOfClient(client))
      : null
  const listener = listenConfig ? new PgListener(listenConfig) : undefined
  const prismaSequencer = new PrismaSequencer(db, provider, listener)
  // SQLite: the hot paths on direct connections when the client's driver allows it (sqlite-direct.ts).
  const direct =
    provider === 'sqlite' && options.sqliteDirect !== false
      ? SqliteDirect.open(client).catch(() => null)
      : null
  const sequencer = direct ? new SqliteSequencer(direct, prismaSequencer) : prismaSequencer
  const prismaRepo = new PrismaRepoStore(db, provider, () => sequencer.notify())
  let walSet = false
  const useWal = async () => {
    if (provider !== 'sqlite' || options.sqliteWal !== true || walSet) return
    await db.$queryRawUnsafe('PRAGMA journal_mode = WAL')
    walSet = true
  }
  return {
    id: `prisma:${provider}`,
    repo: direct ? new SqliteRepoStore(direct, prismaRepo, () => sequencer.notify()) : prismaRepo,
    accounts: direct ? new SqliteAccountStore(db, direct) : new PrismaAccountStore(db),
    sequencer,
    blobs: new PrismaBlobMetaStore(db, provider),
    rateLimits: new PrismaRateLimits(db, provider),
    plc: new PrismaPlcStore(db, provider),
    // Optional parts exist when the client was generated with their fragments (sync --only …).
    oauth: hasOAuthModels(db) ? new PrismaOAuthStore(db) : undefined,
    oauthClient: hasOAuthClientModels(db) ? new PrismaOAuthClientStore(db) : undefined,
    identityCache: hasIdentityModels(db) ? new PrismaIdentityCache(db) : undefined,
    indexer: hasIndexerModels(db) ? new PrismaIndexerStore(db) : undefined,
    takedowns: hasModerationModels(db)
      ? direct
        ? new SqliteTakedownStore(db, direct)
        : new PrismaTakedownStore(db)
      : undefined,
    hostUsers: hasModerationModels(db) ? new PrismaHostUserStore(db) : undefined,
    communityHandles: hasCommunityModels(db) ? new PrismaCommunityHandleStore(db) : undefined,
    async sqliteDirect() {
      const d = await direct
      return d ? { walCheckpoints: d.backgroundCheckpoints ? 'background' : 'sqlite' } : null
    },
    async migrate() {
      await useWal()
      return migrate(db, provider)
    },
    async check() {
      try {
        await db.$queryRawUnsafe('SELECT 1')
      } catch (err) {
        throw new StorageUnavailableError(
          `The ${provider} database cannot be reached (${(err as Error).message.split('\n')[0]}). Is it running, and is the URL right?`,
          { cause: err },
        )
      }
      if ((options.migrations ?? 'adapter') === 'adapter') {
        const applied = new Set(await appliedMigrations(db))
        const pending = migrationNames(provider).filter((m) => !applied.has(m))
        if (pending.length > 0) {
          throw new StorageNotMigratedError(
            `The ${provider} database is not migrated for atproto (pending: ${pending.join(', ')}). Run \`npx next-atproto-prisma migrate\` or call adapter.migrate() at start-up.`,
          )
        }
      } else {
        try {
          await db.atprotoSeqEvent.findFirst({ select: { seq: true } })
        } catch (err) {
          throw new StorageNotMigratedError(
            'The atproto tables are missing: run `npx prisma migrate dev` after `npx next-atproto-prisma sync`.',
            { cause: err },
          )
        }
        const problem = await keyColumnProblem(db, provider)
        if (problem) throw new StorageNotMigratedError(`${problem}. ${keyColumnFix(provider)}`)
      }
      // Last, on a database known to be ours and migrated: switching the journal mode of a file the
      // app's own migration tooling is about to open would keep that tooling from locking it.
      await useWal()
    },
    async close() {
      await listener?.close()
      sequencer.close()
      await (await direct)?.close()
      await db.$disconnect()
    },
  }
}
