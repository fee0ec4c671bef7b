/**
 * Repositories on the direct SQLite connections (sqlite-direct.ts), over the same tables as the Prisma
 * repo store. A commit reads through prepared statements while `fn` runs, keeps its writes in memory,
 * and flushes them with its firehose events in one synchronous write transaction.
 */
import {
  BlockMap,
  CID,
  cidString,
  type RecordRow,
  type RepoReader,
  type RepoStore,
  type RepoTransactor,
  type SeqInsert,
  StorageReadOnlyError,
} from '@next-atproto/core'
import { KeyedLock } from '../memory/lock.js'
import { bytesOf, dateOf, type SqliteConn, type SqliteDirect } from './sqlite-direct.js'

type RootRow = { cid: string; rev: string }
type RecordSqlRow = { collection: string; rkey: string; cid: string; repoRev: string; indexedAt: unknown }
type BlockSqlRow = { cid: string; bytes: Uint8Array; rev?: string | null }

const SQL = {
  root: 'SELECT cid, rev FROM atproto_repo_root WHERE did = ?',
  block: 'SELECT cid, bytes FROM atproto_repo_block WHERE did = ? AND cid = ?',
  blocks:
    'SELECT cid, bytes FROM atproto_repo_block WHERE did = ? AND cid IN (SELECT value FROM json_each(?))',
  record:
    'SELECT collection, rkey, cid, repoRev, indexedAt FROM atproto_record WHERE did = ? AND collection = ? AND rkey = ?',
  collections: 'SELECT DISTINCT collection FROM atproto_record WHERE did = ? ORDER BY collection',
  count: 'SELECT count(*) AS n FROM atproto_record WHERE did = ?',
  since: 'SELECT cid, bytes FROM atproto_repo_block WHERE did = ? AND rev > ?',
  recordBlock:
    'SELECT r.cid AS cid, r.repoRev AS rev, b.bytes AS bytes FROM atproto_record r JOIN atproto_repo_block b ON b.did = r.did AND b.cid = r.cid WHERE r.did = ? AND r.collection = ? AND r.rkey = ?',
  putBlock:
    'INSERT INTO atproto_repo_block (did, cid, bytes, rev) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
  deleteBlock: 'DELETE FROM atproto_repo_block WHERE did = ? AND cid = ?',
  deleteRecordBlock:
    'DELETE FROM atproto_repo_block WHERE did = ? AND cid = ? AND NOT EXISTS (SELECT 1 FROM atproto_record r WHERE r.did = ? AND r.cid = ?)',
  putRecord:
    'INSERT INTO atproto_record (did, collection, rkey, cid, repoRev, indexedAt) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (did, collection, rkey) DO UPDATE SET cid = excluded.cid, repoRev = excluded.repoRev, indexedAt = excluded.indexedAt',
  deleteRecord: 'DELETE FROM atproto_record WHERE did = ? AND collection = ? AND rkey = ?',
  putRoot:
    'INSERT INTO atproto_repo_root (did, cid, rev, updatedAt) VALUES (?, ?, ?, ?) ON CONFLICT (did) DO UPDATE SET cid = excluded.cid, rev = excluded.rev, updatedAt = excluded.updatedAt',
  putEvent: 'INSERT INTO atproto_seq_event (did, type, body, time) VALUES (?, ?, ?, ?)',
  destroyBlocks: 'DELETE FROM atproto_repo_block WHERE did = ?',
  destroyRecords: 'DELETE FROM atproto_record WHERE did = ?',
  destroyRoot: 'DELETE FROM atproto_repo_root WHERE did = ?',
} as const

const toRecord = (r: RecordSqlRow): RecordRow => ({
  collection: r.collection,
  rkey: r.rkey,
  cid: CID.parse(r.cid),
  repoRev: r.repoRev,
  indexedAt: dateOf(r.indexedAt),
})

/** Reads of one repo through `conn` (statements run synchronously; results come back as promises). */
function reader(conn: SqliteConn, did: string): RepoReader {
  return {
    async getRoot() {
      const row = await conn.get<RootRow>(SQL.root, did)
      return row ? { cid: CID.parse(row.cid), rev: row.rev } : null
    },
    async getBlocks(cids) {
      const blocks = new BlockMap()
      const missing: CID[] = []
      if (cids.length === 1) {
        const row = await conn.get<BlockSqlRow>(SQL.block, did, cidString(cids[0]!))
        if (row) blocks.set(cids[0]!, bytesOf(row.bytes))
        else missing.push(cids[0]!)
        return { blocks, missing }
      }
      if (cids.length === 0) return { blocks, missing }
      const keys = cids.map((c) => cidString(c))
      const rows = await conn.all<BlockSqlRow>(SQL.blocks, did, JSON.stringify(keys))
      const found = new Map(rows.map((r) => [r.cid, r.bytes]))
      for (let i = 0; i < cids.length; i++) {
        const bytes = found.get(keys[i]!)
        if (bytes) blocks.set(cids[i]!, bytesOf(bytes))
        else missing.push(cids[i]!)
      }
      return { blocks, missing }
    },
    async putBlocks() {
      throw new StorageReadOnlyError('read-only: write blocks inside repo.transact()')
    },
    async getRecord(collection, rkey) {
      const row = await conn.get<RecordSqlRow>(SQL.record, did, collection, rkey)
      return row ? toRecord(row) : null
    },
    async listRecords(collection, { limit, cursor, reverse }) {
      const range = cursor === undefined ? '' : reverse ? ' AND rkey > ?' : ' AND rkey < ?'
      const sql = `SELECT collection, rkey, cid, repoRev, indexedAt FROM atproto_record WHERE did = ? AND collection = ?${range} ORDER BY rkey ${reverse ? 'ASC' : 'DESC'} LIMIT ?`
      const params = cursor === undefined ? [did, collection, limit] : [did, collection, cursor, limit]
      return (await conn.all<RecordSqlRow>(sql, ...params)).map(toRecord)
    },
    async listCollections() {
      return (await conn.all<{ collection: string }>(SQL.collections, did)).map((r) => r.collection)
    },
    async countRecords() {
      return (await conn.get<{ n: number }>(SQL.count, did))!.n
    },
    async blocksSince(since) {
      const out = new BlockMap()
      for (const r of await conn.all<BlockSqlRow>(SQL.since, did, since)) {
        out.set(CID.parse(r.cid), bytesOf(r.bytes))
      }
      return out
    },
    async exportBlocks({ since, after, limit }) {
      // Pages ordered by (rev, CID) as the Prisma store orders them: blocks stored without a rev come
      // first (position rev '') and only in full exports. Cursor: "<rev> <cid>".
      const split = after === undefined ? -1 : after.indexOf(' ')
      const afterRev = after === undefined ? undefined : after.slice(0, split)
      const afterCid = after === undefined ? undefined : after.slice(split + 1)
      const rows: BlockSqlRow[] = []
      if (since === undefined && (afterRev === undefined || afterRev === '')) {
        const sql = `SELECT cid, bytes, rev FROM atproto_repo_block WHERE did = ? AND rev IS NULL${afterCid === undefined ? '' : ' AND cid > ?'} ORDER BY cid LIMIT ?`
        const params = afterCid === undefined ? [did, limit + 1] : [did, afterCid, limit + 1]
        rows.push(...(await conn.all<BlockSqlRow>(sql, ...params)))
      }
      if (rows.length <= limit) {
        let sql = `SELECT cid, bytes, rev FROM atproto_repo_block WHERE did = ? AND ${since === undefined ? 'rev IS NOT NULL' : 'rev > ?'}`
        const params: unknown[] = since === undefined ? [did] : [did, since]
        if (afterRev) {
          sql += ' AND (rev > ? OR (rev = ? AND cid > ?))'
          params.push(afterRev, afterRev, afterCid)
        }
        sql += ' ORDER BY rev, cid LIMIT ?'
        params.push(limit + 1 - rows.length)
        rows.push(...(await conn.all<BlockSqlRow>(sql, ...params)))
      }
      const page = rows.slice(0, limit)
      const blocks = new BlockMap()
      for (const r of page) blocks.set(CID.parse(r.cid), bytesOf(r.bytes))
      const last = page.at(-1)
      return { blocks, cursor: rows.length > limit && last ? `${last.rev ?? ''} ${last.cid}` : null }
    },
  }
}

/** A write of a commit, kept until the flush (replayed in call order). */
type Op =
  | { kind: 'blocks'; rows: Array<[string, Uint8Array]>; rev: string | null }
  | { kind: 'deleteBlocks'; cids: string[] }
  | { kind: 'deleteRecordBlocks'; cids: string[] }
  | { kind: 'record'; collection: string; rkey: string; cid: string; repoRev: string; indexedAt: Date }
  | { kind: 'deleteRecord'; collection: string; rkey: string }
  | { kind: 'root'; cid: string; rev: string }

const LOCKS = Symbol.for('next-atproto.prisma.sqlite-repo-locks')

/** Per-(file, DID) writer lock shared by every adapter instance of the process (one lock per repo). */
function repoLocks(): KeyedLock {
  const g = globalThis as { [LOCKS]?: KeyedLock }
  g[LOCKS] ??= new KeyedLock()
  return g[LOCKS]
}

/**
 * Repositories on direct connections. Inside `transact`, `getRoot`, `getRecord` and `getBlocks` see the
 * transaction's own writes; listing reads (`listRecords`, `listCollections`, `countRecords`,
 * `blocksSince`, `exportBlocks`) see the repo as the transaction found it. Multi-statement reads outside
 * a transaction (`read`) use a read snapshot in WAL mode and the Prisma store otherwise.
 */
export class SqliteRepoStore implements RepoStore {
  #direct: SqliteDirect | null | undefined

  constructor(
    private readonly ready: Promise<SqliteDirect | null>,
    /** The Prisma store, for databases the direct connections cannot serve (see {@link SqliteDirect.open}). */
    private readonly fallback: RepoStore,
    private readonly onCommitted: () => void,
  ) {}

  async #get(): Promise<SqliteDirect | null> {
    if (this.#direct === undefined) this.#direct = await this.ready
    return this.#direct
  }

  async read<T>(did: string, fn: (reader: RepoReader) => Promise<T>): Promise<T> {
    const direct = await this.#get()
    if (!direct?.isWal()) return this.fallback.read(did, fn)
    return direct.snapshot((conn) => fn(reader(conn, did)))
  }

  async getRecordBlock(did: string, collection: string, rkey: string) {
    const direct = await this.#get()
    if (!direct) return this.fallback.getRecordBlock!(did, collection, rkey)
    // One statement, one snapshot: the writer connection is only ever inside a transaction during a
    // synchronous flush, so this never sees half a commit.
    const row = await direct.writer.get<{ cid: string; rev: string; bytes: Uint8Array }>(
      SQL.recordBlock,
      did,
      collection,
      rkey,
    )
    return row ? { cid: CID.parse(row.cid), bytes: bytesOf(row.bytes), repoRev: row.rev } : null
  }

  async transact<T>(did: string, fn: (tx: RepoTransactor) => Promise<T>): Promise<T> {
    const direct = await this.#get()
    if (!direct) return this.fallback.transact(did, fn)
    return this.#transact(direct, did, fn)
  }

  #transact<T>(direct: SqliteDirect, did: string, fn: (tx: RepoTransactor) => Promise<T>): Promise<T> {
    const conn = direct.writer
    return repoLocks().run(`${conn.db.name}\0${did}`, async () => {
      const start = (await conn.get<RootRow>(SQL.root, did)) ?? null
      const ops: Op[] = []
      const events: SeqInsert[] = []
      // Own writes, for the point reads: a value, or null once deleted.
      const blocks = new Map<string, Uint8Array | null>()
      const records = new Map<string, Op & { kind: 'record' }>()
      const deletedRecords = new Set<string>()
      let root: RootRow | null = start
      const base = reader(conn, did)
      const tx: RepoTransactor = {
        ...base,
        async getRoot() {
          return root ? { cid: CID.parse(root.cid), rev: root.rev } : null
        },
        async getRecord(collection, rkey) {
          const key = `${collection}/${rkey}`
          const own = records.get(key)
          if (own) return toRecord(own)
          if (deletedRecords.has(key)) return null
          return base.getRecord(collection, rkey)
        },
        async getBlocks(cids) {
          if (blocks.size === 0) return base.getBlocks(cids)
          const out = new BlockMap()
          const missing: CID[] = []
          const ask: CID[] = []
          for (const cid of cids) {
            const own = blocks.get(cidString(cid))
            if (own) out.set(cid, own)
            else if (own === null) missing.push(cid)
            else ask.push(cid)
          }
          if (ask.length > 0) {
            const stored = await base.getBlocks(ask)
            out.addMap(stored.blocks)
            missing.push(...stored.missing)
          }
          return { blocks: out, missing }
        },
        async putBlocks(map, rev) {
          const rows: Array<[string, Uint8Array]> = []
          for (const [cid, bytes] of map) {
            const key = cidString(cid)
            rows.push([key, bytes])
            blocks.set(key, bytes)
          }
          ops.push({ kind: 'blocks', rows, rev: rev ?? null })
        },
        async deleteBlocks(cids) {
          if (cids.length === 0) return
          const keys = cids.map((c) => cidString(c))
          for (const k of keys) blocks.set(k, null)
          ops.push({ kind: 'deleteBlocks', cids: keys })
        },
        async deleteRecordBlocks(cids) {
          if (cids.length === 0) return
          const keys = cids.map((c) => cidString(c))
          // Whether a record still points at one is settled in the flush; until then point reads
          // fall through to the database, which still has them.
          for (const k of keys) blocks.delete(k)
          ops.push({ kind: 'deleteRecordBlocks', cids: keys })
        },
        async putRecord(row) {
          const op = {
            kind: 'record' as const,
            collection: row.collection,
            rkey: row.rkey,
            cid: cidString(row.cid),
            repoRev: row.repoRev,
            indexedAt: new Date(),
          }
          const key = `${row.collection}/${row.rkey}`
          records.set(key, op)
          deletedRecords.delete(key)
          ops.push(op)
        },
        async deleteRecord(collection, rkey) {
          const key = `${collection}/${rkey}`
          records.delete(key)
          deletedRecords.add(key)
          ops.push({ kind: 'deleteRecord', collection, rkey })
        },
        async updateRoot(cid, rev) {
          root = { cid: cidString(cid), rev }
          ops.push({ kind: 'root', cid: root.cid, rev })
        },
        async sequence(list) {
          events.push(...list)
        },
      }
      let out: T
      try {
        out = await fn(tx)
      } catch (err) {
        // `fn` read the repo statement by statement, so a commit of another process in between can make
        // it fail (a block it looked for was replaced and deleted). If the repo moved, the failure may
        // be that commit's doing: run again under the write lock, where it reads one state.
        const now = (await conn.get<RootRow>(SQL.root, did)) ?? null
        if (now?.cid === start?.cid && now?.rev === start?.rev) throw err
        return this.fallback.transact(did, fn)
      }
      if (ops.length === 0 && events.length === 0) return out
      const moved = await direct.write((w) => {
        const now = (w.sql(SQL.root).get(did) as RootRow | undefined) ?? null
        if (now?.cid !== start?.cid || now?.rev !== start?.rev) return true
        flush(w, direct, did, ops, events)
        return false
      })
      if (!moved) {
        if (events.length > 0) this.onCommitted()
        return out
      }
      // Another process committed to this repo after `fn` read it: nothing was written. Run the unit
      // of work again as a write-first Prisma transaction, which holds SQLite's write lock from its
      // start, so a process that keeps committing to the same repo cannot make this one lose forever.
      // (Our writer connection backs off meanwhile, see sqlite-direct.ts.)
      return this.fallback.transact(did, fn)
    })
  }

  async destroy(did: string): Promise<void> {
    const direct = await this.#get()
    if (!direct) return this.fallback.destroy(did)
    await repoLocks().run(`${direct.writer.db.name}\0${did}`, () =>
      direct.write((w) => {
        w.sql(SQL.destroyBlocks).run(did)
        w.sql(SQL.destroyRecords).run(did)
        w.sql(SQL.destroyRoot).run(did)
      }),
    )
  }
}

/** Replay a commit's writes in order, then append its events (last, as in the Prisma store). */
function flush(w: SqliteConn, direct: SqliteDirect, did: string, ops: Op[], events: SeqInsert[]): void {
  for (const op of ops) {
    switch (op.kind) {
      case 'blocks': {
        const stmt = w.sql(SQL.putBlock)
        for (const [cid, bytes] of op.rows) stmt.run(did, cid, bytes, op.rev)
        break
      }
      case 'deleteBlocks': {
        const stmt = w.sql(SQL.deleteBlock)
        for (const cid of op.cids) stmt.run(did, cid)
        break
      }
      case 'deleteRecordBlocks': {
        const stmt = w.sql(SQL.deleteRecordBlock)
        for (const cid of op.cids) stmt.run(did, cid, did, cid)
        break
      }
      case 'record':
        w.sql(SQL.putRecord).run(did, op.collection, op.rkey, op.cid, op.repoRev, direct.time(op.indexedAt))
        break
      case 'deleteRecord':
        w.sql(SQL.deleteRecord).run(did, op.collection, op.rkey)
        break
      case 'root':
        w.sql(SQL.putRoot).run(did, op.cid, op.rev, direct.time(new Date()))
        break
    }
  }
  if (events.length > 0) {
    const stmt = w.sql(SQL.putEvent)
    const time = direct.time(new Date())
    for (const e of events) stmt.run(e.did, e.type, e.body, time)
  }
}
