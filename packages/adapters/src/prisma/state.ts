/**
 * Identity cache (prisma/identity.prisma) and AppView indexer state (prisma/indexer.prisma) over Prisma.
 * Both are optional parts of the adapter, present when the client was generated with their fragments.
 */
import type { CachedIdentity, IdentityCache, IndexerStore } from '@next-atproto/core'
import type { Delegate } from './client.js'
import { storageKey } from './oauth.js'

/** The identity cache delegate (structural). */
export interface IdentityClientLike {
  atprotoIdentityCache: Delegate
}

/** The indexer delegates (structural). */
export interface IndexerClientLike {
  atprotoIndexerCursor: Delegate
  atprotoIndexedRecord: Delegate
}

export const hasIdentityModels = (client: object): client is IdentityClientLike =>
  'atprotoIdentityCache' in client
export const hasIndexerModels = (client: object): client is IndexerClientLike =>
  'atprotoIndexerCursor' in client && 'atprotoIndexedRecord' in client

/**
 * {@link IdentityCache} in the database, shared by every process (a resolution done by one is reused by
 * all). Entries never expire here: the resolver decides freshness from `updatedAt`.
 */
export class PrismaIdentityCache implements IdentityCache {
  constructor(
    private readonly db: IdentityClientLike,
    private readonly now: () => number = Date.now,
  ) {}

  async get(key: string): Promise<CachedIdentity | null> {
    const r = await this.db.atprotoIdentityCache.findUnique({ where: { key: storageKey(key) } })
    return r ? { value: r.value, updatedAt: r.updatedAt.getTime() } : null
  }

  async set(key: string, value: unknown): Promise<void> {
    const k = storageKey(key)
    const data = { value: value as object, updatedAt: new Date(this.now()) }
    await this.db.atprotoIdentityCache.upsert({
      where: { key: k },
      create: { key: k, ...data },
      update: data,
    })
  }

  async delete(key: string): Promise<void> {
    await this.db.atprotoIdentityCache.deleteMany({ where: { key: storageKey(key) } })
  }
}

/** Cursor of {@link PrismaIndexerStore.listRows}: `<indexedAt ms>::<uri>` of the last row returned. */
function parseCursor(cursor: string): { at: Date; uri: string } | null {
  const i = cursor.indexOf('::')
  const ms = Number(cursor.slice(0, i))
  return i > 0 && Number.isFinite(ms) ? { at: new Date(ms), uri: cursor.slice(i + 2) } : null
}

/** Format the cursor that continues after `row` in {@link PrismaIndexerStore.listRows}. */
export const indexerCursor = (row: { indexedAt: Date; uri: string }) =>
  `${row.indexedAt.getTime()}::${row.uri}`

/**
 * {@link IndexerStore} over Prisma: firehose cursors and indexed records, listed newest first
 * (`indexedAt` descending, then `uri` descending). The `cursor` of `listRows` is {@link indexerCursor}
 * of the last row of the previous page.
 */
export class PrismaIndexerStore implements IndexerStore {
  constructor(private readonly db: IndexerClientLike) {}

  async getCursor(name: string): Promise<string | null> {
    const r = await this.db.atprotoIndexerCursor.findUnique({ where: { name } })
    return r ? r.cursor : null
  }

  async setCursor(name: string, cursor: string): Promise<void> {
    await this.db.atprotoIndexerCursor.upsert({
      where: { name },
      create: { name, cursor },
      update: { cursor },
    })
  }

  async putRow(row: {
    collection: string
    uri: string
    did: string
    rkey: string
    cid: string
    value: unknown
    indexedAt?: Date
  }): Promise<void> {
    const data = {
      collection: row.collection,
      did: row.did,
      rkey: row.rkey,
      cid: row.cid,
      value: row.value as object,
      indexedAt: row.indexedAt ?? new Date(),
    }
    await this.db.atprotoIndexedRecord.upsert({
      where: { uri: row.uri },
      create: { uri: row.uri, ...data },
      // A re-indexed (updated) record keeps its first indexedAt, so pages do not reshuffle.
      update: { cid: data.cid, value: data.value },
    })
  }

  async deleteRow(uri: string): Promise<void> {
    await this.db.atprotoIndexedRecord.deleteMany({ where: { uri } })
  }

  async listRows(
    collection: string,
    opts: { limit: number; cursor?: string; did?: string },
  ): Promise<Array<{ uri: string; cid: string; did: string; value: unknown; indexedAt: Date }>> {
    const after = opts.cursor === undefined ? null : parseCursor(opts.cursor)
    const where: Record<string, unknown> = { collection }
    if (opts.did !== undefined) where.did = opts.did
    if (after) {
      where.OR = [{ indexedAt: { lt: after.at } }, { indexedAt: after.at, uri: { lt: after.uri } }]
    }
    const rows = await this.db.atprotoIndexedRecord.findMany({
      where,
      orderBy: [{ indexedAt: 'desc' }, { uri: 'desc' }],
      take: opts.limit,
    })
    return rows.map((r: any) => ({
      uri: r.uri,
      cid: r.cid,
      did: r.did,
      value: r.value,
      indexedAt: r.indexedAt,
    }))
  }
}
