import {
  BlockMap,
  type BlockPage,
  type CID,
  type RecordRow,
  type RepoReader,
  type RepoStore,
  type RepoTransactor,
  type SeqInsert,
  StorageReadOnlyError,
} from '@next-atproto/core'
import { KeyedLock } from './lock.js'
import type { MemorySequencer } from './sequencer.js'

interface RepoState {
  root: { cid: CID; rev: string } | null
  blocks: Map<string, { cid: CID; bytes: Uint8Array; rev: string | undefined }>
  /** collection -> rkey -> row */
  records: Map<string, Map<string, RecordRow>>
}

const emptyState = (): RepoState => ({ root: null, blocks: new Map(), records: new Map() })

function reader(state: RepoState): RepoReader {
  return {
    async getRoot() {
      return state.root
    },
    async getBlocks(cids) {
      const blocks = new BlockMap()
      const missing: CID[] = []
      for (const cid of cids) {
        const hit = state.blocks.get(cid.toString())
        if (hit) blocks.set(cid, hit.bytes)
        else missing.push(cid)
      }
      return { blocks, missing }
    },
    async putBlocks() {
      throw new StorageReadOnlyError('read-only: write blocks inside repo.transact()')
    },
    async getRecord(collection, rkey) {
      const row = state.records.get(collection)?.get(rkey)
      return row ? { ...row } : null
    },
    async listRecords(collection, { limit, cursor, reverse }) {
      const rows = [...(state.records.get(collection)?.values() ?? [])].sort((a, b) =>
        a.rkey < b.rkey ? -1 : a.rkey > b.rkey ? 1 : 0,
      )
      if (!reverse) rows.reverse()
      const after =
        cursor === undefined ? rows : rows.filter((r) => (reverse ? r.rkey > cursor : r.rkey < cursor))
      return after.slice(0, limit).map((r) => ({ ...r }))
    },
    async listCollections() {
      return [...state.records.entries()]
        .filter(([, m]) => m.size > 0)
        .map(([c]) => c)
        .sort()
    },
    async countRecords() {
      let n = 0
      for (const m of state.records.values()) n += m.size
      return n
    },
    async blocksSince(since) {
      const out = new BlockMap()
      for (const b of state.blocks.values()) if (b.rev !== undefined && b.rev > since) out.set(b.cid, b.bytes)
      return out
    },
    async exportBlocks({ since, after, limit }): Promise<BlockPage> {
      // Order by (rev, CID); blocks stored without a rev sort first and only appear in full exports.
      const keyed = [...state.blocks.values()]
        .filter((b) => since === undefined || (b.rev !== undefined && b.rev > since))
        .map((b) => ({ b, pos: `${b.rev ?? ''} ${b.cid.toString()}` }))
        .filter((e) => after === undefined || e.pos > after)
        .sort((x, y) => (x.pos < y.pos ? -1 : x.pos > y.pos ? 1 : 0))
      const page = keyed.slice(0, limit)
      const blocks = new BlockMap()
      for (const { b } of page) blocks.set(b.cid, b.bytes)
      return { blocks, cursor: keyed.length > limit ? page.at(-1)!.pos : null }
    },
  }
}

function cloneState(state: RepoState): RepoState {
  return {
    root: state.root,
    blocks: new Map(state.blocks),
    records: new Map([...state.records].map(([c, m]) => [c, new Map(m)])),
  }
}

/** Repositories in memory: a transaction works on a copy that replaces the state only on success. */
export class MemoryRepoStore implements RepoStore {
  readonly #repos = new Map<string, RepoState>()
  readonly #lock = new KeyedLock()

  constructor(private readonly sequencer: MemorySequencer) {}

  read<T>(did: string, fn: (reader: RepoReader) => Promise<T>): Promise<T> {
    return fn(reader(this.#repos.get(did) ?? emptyState()))
  }

  async getRecordBlock(did: string, collection: string, rkey: string) {
    const state = this.#repos.get(did)
    const row = state?.records.get(collection)?.get(rkey)
    const block = row && state!.blocks.get(row.cid.toString())
    return block ? { cid: row!.cid, bytes: block.bytes, repoRev: row!.repoRev } : null
  }

  transact<T>(did: string, fn: (tx: RepoTransactor) => Promise<T>): Promise<T> {
    return this.#lock.run(`repo:${did}`, async () => {
      const draft = cloneState(this.#repos.get(did) ?? emptyState())
      const pending: SeqInsert[] = []
      const tx: RepoTransactor = {
        ...reader(draft),
        async putBlocks(blocks, rev) {
          for (const [cid, bytes] of blocks) {
            const key = cid.toString()
            if (!draft.blocks.has(key)) draft.blocks.set(key, { cid, bytes, rev })
          }
        },
        async deleteBlocks(cids) {
          for (const cid of cids) draft.blocks.delete(cid.toString())
        },
        async putRecord(row) {
          let m = draft.records.get(row.collection)
          if (!m) draft.records.set(row.collection, (m = new Map()))
          m.set(row.rkey, { ...row, indexedAt: new Date() })
        },
        async deleteRecord(collection, rkey) {
          draft.records.get(collection)?.delete(rkey)
        },
        async deleteRecordBlocks(cids) {
          if (cids.length === 0) return
          const candidates = new Set(cids.map((c) => c.toString()))
          // A scan of the record rows: this store is for tests, where repos are small.
          for (const rows of draft.records.values()) {
            for (const row of rows.values()) candidates.delete(row.cid.toString())
          }
          for (const key of candidates) draft.blocks.delete(key)
        },
        async updateRoot(cid, rev) {
          draft.root = { cid, rev }
        },
        async sequence(events) {
          pending.push(...events)
        },
      }
      const result = await fn(tx)
      // No await between the two: readers see the new state and its events together.
      this.#repos.set(did, draft)
      this.sequencer.appendSync(pending)
      return result
    })
  }

  async destroy(did: string): Promise<void> {
    await this.#lock.run(`repo:${did}`, async () => {
      this.#repos.delete(did)
    })
  }
}
