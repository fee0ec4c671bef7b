/**
 * Transaction discipline per database, applied once around the app's client so every store gets it:
 *
 * - SQLite has one writer per file. Prisma opens interactive transactions with a deferred `BEGIN`, so
 *   a transaction that reads first takes a SHARED lock and must upgrade to write later; two connections
 *   doing that at once deadlock and SQLite fails one with SQLITE_BUSY at once (its busy handler is not
 *   consulted for upgrades). Every transaction therefore starts with a write (a no-op DELETE), which takes
 *   the RESERVED lock up front and waits for it through the busy timeout: the equivalent of
 *   `BEGIN IMMEDIATE`. better-sqlite3 waits synchronously, which would freeze the event loop while another
 *   client of the same process holds the lock mid-transaction (two module instances of one Next.js server
 *   each have a client), so transactions also queue on one process-wide lock kept on globalThis.
 * - MySQL/MariaDB transactions run at READ COMMITTED: REPEATABLE READ's gap locks make concurrent first
 *   writes of new keys deadlock, and our writers serialize on explicit lock rows instead (repo.ts,
 *   sequencer.ts), after which each statement must see the latest committed data anyway.
 * - PostgreSQL keeps its default (READ COMMITTED) and uses advisory locks.
 */
import { KeyedLock } from '../memory/lock.js'
import type { PrismaClientLike, PrismaProvider } from './client.js'

const SQLITE_WRITER = Symbol.for('next-atproto.prisma.sqlite-writer')

/** The process-wide queue of SQLite write transactions (shared by every copy of this module). */
export function sqliteWriterLock(): KeyedLock {
  const g = globalThis as { [SQLITE_WRITER]?: KeyedLock }
  g[SQLITE_WRITER] ??= new KeyedLock()
  return g[SQLITE_WRITER]
}

/** Wrap `client` so its interactive transactions follow the discipline above; everything else passes through. */
export function withTransactionDiscipline(
  client: PrismaClientLike,
  provider: PrismaProvider,
): PrismaClientLike {
  if (provider === 'postgresql') return client
  const $transaction: PrismaClientLike['$transaction'] = (fn, options) => {
    const { readOnly, ...prismaOptions } = options ?? {}
    if (provider === 'mysql')
      return client.$transaction(fn, { isolationLevel: 'ReadCommitted', ...prismaOptions })
    return sqliteWriterLock().run('sqlite', () =>
      client.$transaction(async (tx) => {
        // A reader never upgrades to write, so it needs no write lock up front: a deferred BEGIN gives
        // it its snapshot (and one statement less).
        if (!readOnly) await tx.$executeRawUnsafe(`DELETE FROM atproto_repo_lock WHERE did = ''`)
        return fn(tx)
      }, prismaOptions),
    )
  }
  // A Proxy rather than a copy: delegates are getters on the client, and methods must keep their `this`.
  return new Proxy(client, {
    get(target, prop) {
      if (prop === '$transaction') return $transaction
      const value = Reflect.get(target, prop, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}
