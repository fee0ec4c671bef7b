import type { IndexerStore } from '@next-atproto/core'

interface Row {
  collection: string
  uri: string
  did: string
  rkey: string
  cid: string
  value: unknown
  indexedAt: Date
}

/** Newest first: indexedAt descending, then uri descending (the order of the cursor). */
const newestFirst = (a: Row, b: Row) =>
  b.indexedAt.getTime() - a.indexedAt.getTime() || (a.uri < b.uri ? 1 : a.uri > b.uri ? -1 : 0)

/** AppView cursors and indexed rows in memory. */
export class MemoryIndexerStore implements IndexerStore {
  readonly #cursors = new Map<string, string>()
  readonly #rows = new Map<string, Row>()

  async getCursor(name: string) {
    return this.#cursors.get(name) ?? null
  }

  async setCursor(name: string, cursor: string) {
    this.#cursors.set(name, cursor)
  }

  async putRow(row: Omit<Row, 'indexedAt'> & { indexedAt?: Date }) {
    const prev = this.#rows.get(row.uri)
    // JSON round trip: what a database stores, so callers cannot mutate stored values.
    const value = JSON.parse(JSON.stringify(row.value ?? null))
    this.#rows.set(row.uri, {
      ...row,
      value,
      indexedAt: prev?.indexedAt ?? row.indexedAt ?? new Date(),
    })
  }

  async deleteRow(uri: string) {
    this.#rows.delete(uri)
  }

  async listRows(collection: string, opts: { limit: number; cursor?: string; did?: string }) {
    let rows = [...this.#rows.values()].filter(
      (r) => r.collection === collection && (opts.did === undefined || r.did === opts.did),
    )
    rows.sort(newestFirst)
    const cursor = opts.cursor
    if (cursor !== undefined) rows = rows.filter((r) => compareToCursor(r, cursor) > 0)
    return rows.slice(0, opts.limit).map((r) => ({
      uri: r.uri,
      cid: r.cid,
      did: r.did,
      value: JSON.parse(JSON.stringify(r.value)),
      indexedAt: r.indexedAt,
    }))
  }
}

/** Positive when `row` comes after the cursor (`<indexedAt ms>::<uri>`) in newest-first order. */
function compareToCursor(row: Row, cursor: string): number {
  const i = cursor.indexOf('::')
  const ms = Number(cursor.slice(0, i))
  const uri = cursor.slice(i + 2)
  if (i <= 0 || !Number.isFinite(ms)) return 1
  const t = row.indexedAt.getTime()
  if (t !== ms) return ms - t
  return row.uri < uri ? 1 : row.uri > uri ? -1 : 0
}
