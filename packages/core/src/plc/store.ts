import { PlcConflictError } from './errors.js'
import type { AnyPlcOperation, PlcLogEntry } from './types.js'

/**
 * Storage behind a PLC directory. Implementations: {@link MemoryPlcStore} here; DB-backed ones in
 * `@next-atproto/adapters`.
 *
 * Contract (what the directory relies on):
 * - `getLog` returns every entry of the DID, nullified ones included, oldest first (by `seq`).
 * - `appendOp` is ATOMIC per DID: in one transaction it checks that the DID's newest entry
 *   (nullified or not) has CID `expectedLastCid` (`null`: the DID has no entry), marks the
 *   `nullify` CIDs as nullified, and appends the entry with the next directory-wide `seq`. If the
 *   check fails it changes nothing and throws {@link PlcConflictError}; the directory re-validates
 *   and retries. (SQL: `SELECT … FOR UPDATE` on the DID row, or a unique (did, position) index.)
 * - `export` returns entries of every DID ordered by `seq`: after a `seq` number, or created
 *   strictly after a `Date`; at most `count`.
 */
export interface PlcStore {
  getLog(did: string): Promise<PlcLogEntry[]>
  appendOp(
    did: string,
    entry: { operation: AnyPlcOperation; cid: string; createdAt: Date },
    opts: { nullify: readonly string[]; expectedLastCid: string | null },
  ): Promise<PlcLogEntry>
  export(opts: { after?: number | Date; count: number }): Promise<PlcLogEntry[]>
}

/** In-memory {@link PlcStore} for tests, examples and dev directories. */
export class MemoryPlcStore implements PlcStore {
  private readonly byDid = new Map<string, PlcLogEntry[]>()
  private readonly all: PlcLogEntry[] = []

  async getLog(did: string): Promise<PlcLogEntry[]> {
    return (this.byDid.get(did) ?? []).map((e) => ({ ...e }))
  }

  async appendOp(
    did: string,
    entry: { operation: AnyPlcOperation; cid: string; createdAt: Date },
    opts: { nullify: readonly string[]; expectedLastCid: string | null },
  ): Promise<PlcLogEntry> {
    // No await between check and write: atomic on the event loop.
    const log = this.byDid.get(did) ?? []
    if ((log.at(-1)?.cid ?? null) !== opts.expectedLastCid) throw new PlcConflictError(did)
    const nullify = new Set(opts.nullify)
    for (const e of log) if (nullify.has(e.cid)) e.nullified = true
    const stored: PlcLogEntry = { did, ...entry, nullified: false, seq: this.all.length + 1 }
    log.push(stored)
    this.byDid.set(did, log)
    this.all.push(stored)
    return { ...stored }
  }

  async export(opts: { after?: number | Date; count: number }): Promise<PlcLogEntry[]> {
    const { after, count } = opts
    if (after instanceof Date) {
      const t = after.getTime()
      const out: PlcLogEntry[] = []
      for (const e of this.all) {
        if (e.createdAt.getTime() > t) out.push({ ...e })
        if (out.length >= count) break
      }
      return out
    }
    const start = typeof after === 'number' ? Math.max(0, after) : 0
    return this.all.slice(start, start + count).map((e) => ({ ...e }))
  }
}
