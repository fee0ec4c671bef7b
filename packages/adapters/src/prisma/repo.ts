import {
  BlockMap,
  CID,
  type RecordRow,
  type RepoReader,
  type RepoStore,
  type RepoTransactor,
  type SeqInsert,
} from '@next-atproto/core'
import { KeyedLock } from '../memory/lock.js'
import type { PrismaClientLike, PrismaProvider, PrismaTx } from './client.js'
import { lockSequencer } from './sequencer.js'
import { sqliteWriterLock } from './serialize.js'
import { ident, insertIgnore, param } from './sql.js'

const toRow = (r: {
  collection: string
  rkey: string
  cid: string
  repoRev: string
  indexedAt: Date
}): RecordRow => ({
  collection: r.collection,
  rkey: r.rkey,
  cid: CID.parse(r.cid),
  repoRev: r.repoRev,
  indexedAt: r.indexedAt,
})

function reader(db: PrismaTx, did: string): RepoReader {
  return {
    async getRoot() {
      const row = await db.atprotoRepoRoot.findUnique({ where: { did } })
      return row ? { cid: CID.parse(row.cid), rev: row.rev } : null
    },
    async getBlocks(cids) {
      const blocks = new BlockMap()
      if (cids.length === 0) return { blocks, missing: [] }
      const wanted = [...new Set(cids.map((c) => c.toString()))]
      const rows = await db.atprotoRepoBlock.findMany({
        where: { did, cid: { in: wanted } },
        select: { cid: true, bytes: true },
      })
      const found = new Map<string, Uint8Array>(rows.map((r) => [r.cid, r.bytes]))
      const missing: CID[] = []
      for (const cid of cids) {
        const bytes = found.get(cid.toString())
        if (bytes) blocks.set(cid, new Uint8Array(bytes))
        else missing.push(cid)
      }
      return { blocks, missing }
    },
    async putBlocks() {
      throw new Error('read-only: write blocks inside repo.transact()')
    },
    async getRecord(collection, rkey) {
      const row = await db.atprotoRecord.findUnique({
        where: { did_collection_rkey: { did, collection, rkey } },
      })
      return row ? toRow(row) : null
    },
    async listRecords(collection, { limit, cursor, reverse }) {
      const rows = await db.atprotoRecord.findMany({
        where: {
          did,
          collection,
          ...(cursor === undefined ? {} : { rkey: reverse ? { gt: cursor } : { lt: cursor } }),
        },
        orderBy: { rkey: reverse ? 'asc' : 'desc' },
        take: limit,
      })
      return rows.map(toRow)
    },
    async listCollections() {
      const rows = await db.atprotoRecord.findMany({
        where: { did },
        distinct: ['collection'],
        select: { collection: true },
        orderBy: { collection: 'asc' },
      })
      return rows.map((r) => r.collection)
    },
    countRecords: () => db.atprotoRecord.count({ where: { did } }),
    async blocksSince(since) {
      const rows = await db.atprotoRepoBlock.findMany({
        where: { did, rev: { gt: since } },
        select: { cid: true, bytes: true },
      })
      const out = new BlockMap()
      for (const r of rows) out.set(CID.parse(r.cid), new Uint8Array(r.bytes))
      return out
    },
    async exportBlocks({ since, after, limit }) {
      // Pages ordered by (rev, CID), compared in SQL so the database's own ordering decides. Blocks
      // stored without a rev come first (position rev '') and only in full exports. Cursor: "<rev> <cid>".
      const split = after === undefined ? null : after.indexOf(' ')
      const afterRev = after === undefined ? undefined : after.slice(0, split!)
      const afterCid = after === undefined ? undefined : after.slice(split! + 1)
      const select = { cid: true, bytes: true, rev: true }
      const rows: Array<{ cid: string; bytes: Uint8Array; rev: string | null }> = []
      if (since === undefined && (afterRev === undefined || afterRev === '')) {
        rows.push(
          ...(await db.atprotoRepoBlock.findMany({
            where: { did, rev: null, ...(afterCid === undefined ? {} : { cid: { gt: afterCid } }) },
            orderBy: { cid: 'asc' },
            take: limit + 1,
            select,
          })),
        )
      }
      if (rows.length <= limit) {
        const and: object[] = [{ rev: since === undefined ? { not: null } : { gt: since } }]
        if (afterRev) and.push({ OR: [{ rev: { gt: afterRev } }, { rev: afterRev, cid: { gt: afterCid } }] })
        rows.push(
          ...(await db.atprotoRepoBlock.findMany({
            where: { did, AND: and },
            orderBy: [{ rev: 'asc' }, { cid: 'asc' }],
            take: limit + 1 - rows.length,
            select,
          })),
        )
      }
      const page = rows.slice(0, limit)
      const blocks = new BlockMap()
      for (const r of page) blocks.set(CID.parse(r.cid), new Uint8Array(r.bytes))
      const last = page.at(-1)
      return { blocks, cursor: rows.length > limit && last ? `${last.rev ?? ''} ${last.cid}` : null }
    },
  }
}

/**
 * Serialize writers of one repo across processes, until the transaction ends. PostgreSQL: an advisory
 * transaction lock on (namespace, hashtext(did)) (a hash collision only serializes two repos). MySQL: an
 * upsert of the DID's lock row, which creates and exclusively locks it in one statement (see
 * prisma/repo.prisma). SQLite: nothing more, its transactions take the single writer lock up front
 * (serialize.ts).
 */
async function lockRepo(db: PrismaTx, provider: PrismaProvider, did: string): Promise<void> {
  // $executeRaw: pg_advisory_xact_lock returns `void`, which the query path cannot deserialize.
  if (provider === 'postgresql')
    await db.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${REPO_LOCK_NS}, hashtext($1))`, did)
  else if (provider === 'mysql') {
    await db.$executeRawUnsafe(
      'INSERT INTO atproto_repo_lock (did) VALUES (?) ON DUPLICATE KEY UPDATE did = did',
      did,
    )
  }
}

/**
 * Delete record blocks (parameters: the DID, the CIDs, and the DID again except on PostgreSQL) no
 * record row of the repo points at; the (did, cid) index answers the check.
 */
function deleteRecordBlocksSql(p: PrismaProvider, count: number): string {
  const q = (n: string) => ident(p, n)
  const list = Array.from({ length: count }, (_, i) => param(p, i + 2)).join(', ')
  const did = param(p, 1)
  const block = q('atproto_repo_block')
  const inner = p === 'postgresql' ? did : '?'
  return `DELETE FROM ${block} WHERE ${q('did')} = ${did} AND ${q('cid')} IN (${list}) AND NOT EXISTS (SELECT 1 FROM ${q('atproto_record')} r WHERE r.${q('did')} = ${inner} AND r.${q('cid')} = ${block}.${q('cid')})`
}

/** Namespace (first key) of the per-repo advisory locks; the firehose lock uses a one-key lock. */
const REPO_LOCK_NS = 7_262_027

/** Repositories over Prisma: one interactive transaction per commit, writes serialized per DID. */
export class PrismaRepoStore implements RepoStore {
  readonly #lock = new KeyedLock()

  constructor(
    private readonly client: PrismaClientLike,
    private readonly provider: PrismaProvider,
    private readonly onCommitted: () => void,
  ) {}

  read<T>(did: string, fn: (reader: RepoReader) => Promise<T>): Promise<T> {
    // A reader reads several rows (root, then records or blocks) and must see whole commits only, so
    // it runs in a transaction. PostgreSQL/MySQL: REPEATABLE READ gives one snapshot for all of its
    // statements, without blocking writers. SQLite: Prisma's better-sqlite3 adapter has ONE connection,
    // and a query outside a transaction would run on it inside a writer's open transaction and see that
    // commit half done; a transaction queues behind the writer instead (serialize.ts).
    const isolation = this.provider === 'sqlite' ? { readOnly: true } : { isolationLevel: 'RepeatableRead' }
    return this.client.$transaction((db) => fn(reader(db, did)), {
      maxWait: 30_000,
      timeout: 60_000,
      ...isolation,
    })
  }

  async getRecordBlock(did: string, collection: string, rkey: string) {
    // One statement is one snapshot on every database, so no transaction (BEGIN and COMMIT are two of
    // getRecord's round trips otherwise). SQLite: Prisma's adapter has one connection, and a statement
    // run while a writer's transaction is open on it would see that commit half done, so it queues
    // behind writers like a transaction does (serialize.ts).
    const p = this.provider
    const q = (n: string) => ident(p, n)
    const sql = `SELECT r.${q('cid')} AS cid, r.${q('repoRev')} AS rev, b.${q('bytes')} AS bytes FROM ${q('atproto_record')} r JOIN ${q('atproto_repo_block')} b ON b.${q('did')} = r.${q('did')} AND b.${q('cid')} = r.${q('cid')} WHERE r.${q('did')} = ${param(p, 1)} AND r.${q('collection')} = ${param(p, 2)} AND r.${q('rkey')} = ${param(p, 3)}`
    const query = () =>
      this.client.$queryRawUnsafe<Array<{ cid: string; rev: string; bytes: Uint8Array }>>(
        sql,
        did,
        collection,
        rkey,
      )
    const rows = p === 'sqlite' ? await sqliteWriterLock().run('sqlite', query) : await query()
    const row = rows[0]
    return row ? { cid: CID.parse(row.cid), bytes: new Uint8Array(row.bytes), repoRev: row.rev } : null
  }

  transact<T>(did: string, fn: (tx: RepoTransactor) => Promise<T>): Promise<T> {
    const { provider } = this
    // In-process lock first (cheap, and SQLite has one writer anyway), then a database lock so other
    // processes on the same PostgreSQL/MySQL serialize too.
    return this.#lock.run(did, async () => {
      let sequenced = false
      const result = await this.client.$transaction(
        async (db) => {
          await lockRepo(db, provider, did)
          const pending: SeqInsert[] = []
          const tx: RepoTransactor = {
            ...reader(db, did),
            async putBlocks(blocks, rev) {
              const rows: unknown[][] = []
              for (const [cid, bytes] of blocks) rows.push([did, cid.toString(), bytes, rev ?? null])
              await insertIgnore(db, provider, 'atproto_repo_block', ['did', 'cid', 'bytes', 'rev'], rows)
            },
            async deleteBlocks(cids) {
              if (cids.length === 0) return
              await db.atprotoRepoBlock.deleteMany({
                where: { did, cid: { in: cids.map((c) => c.toString()) } },
              })
            },
            async putRecord(row) {
              const data = { cid: row.cid.toString(), repoRev: row.repoRev, indexedAt: new Date() }
              await db.atprotoRecord.upsert({
                where: { did_collection_rkey: { did, collection: row.collection, rkey: row.rkey } },
                create: { did, collection: row.collection, rkey: row.rkey, ...data },
                update: data,
              })
            },
            async deleteRecord(collection, rkey) {
              await db.atprotoRecord.deleteMany({ where: { did, collection, rkey } })
            },
            async deleteRecordBlocks(cids) {
              if (cids.length === 0) return
              const args = cids.map(String)
              // `?` placeholders are positional: SQLite and MySQL bind the DID again for the subquery.
              const tail = provider === 'postgresql' ? [] : [did]
              await db.$executeRawUnsafe(deleteRecordBlocksSql(provider, cids.length), did, ...args, ...tail)
            },
            async updateRoot(cid, rev) {
              await db.atprotoRepoRoot.upsert({
                where: { did },
                create: { did, cid: cid.toString(), rev },
                update: { cid: cid.toString(), rev },
              })
            },
            async sequence(events) {
              pending.push(...events)
            },
          }
          const out = await fn(tx)
          if (pending.length > 0) {
            // Events go last, under the sequencer lock held until commit: seq order = commit order.
            await lockSequencer(db, provider)
            await db.atprotoSeqEvent.createMany({
              data: pending.map((e) => ({ did: e.did, type: e.type, body: e.body })),
            })
            sequenced = true
          }
          return out
        },
        { maxWait: 30_000, timeout: 60_000 },
      )
      if (sequenced) this.onCommitted()
      return result
    })
  }

  async destroy(did: string): Promise<void> {
    await this.#lock.run(did, () =>
      this.client.$transaction(async (db) => {
        await lockRepo(db, this.provider, did)
        await db.atprotoRepoBlock.deleteMany({ where: { did } })
        await db.atprotoRecord.deleteMany({ where: { did } })
        await db.atprotoRepoRoot.deleteMany({ where: { did } })
      }),
    )
  }
}
