import type { SeqInsert, SeqRow, SequencerStore } from '@next-atproto/core'

/** The firehose log in memory; appends are synchronous, so numbers are dense and ordered. */
export class MemorySequencer implements SequencerStore {
  readonly #rows: SeqRow[] = []
  #next = 1

  async append(events: SeqInsert[]): Promise<number[]> {
    return this.appendSync(events)
  }

  /** Append without yielding, so a repo commit can publish its state and its events in one tick. */
  appendSync(events: SeqInsert[]): number[] {
    const time = new Date()
    return events.map((e) => {
      const row: SeqRow = { ...e, seq: this.#next++, time }
      this.#rows.push(row)
      return row.seq
    })
  }

  async range({ after = 0, limit }: { after?: number; limit: number }): Promise<SeqRow[]> {
    // Rows are in seq order: binary search the start.
    let lo = 0
    let hi = this.#rows.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.#rows[mid]!.seq <= after) lo = mid + 1
      else hi = mid
    }
    return this.#rows.slice(lo, lo + limit)
  }

  async latest(): Promise<number | null> {
    return this.#rows.at(-1)?.seq ?? null
  }

  async earliest(): Promise<number | null> {
    return this.#rows[0]?.seq ?? null
  }

  async earliestAfter(time: Date): Promise<number | null> {
    return this.#rows.find((r) => r.time > time)?.seq ?? null
  }

  async deleteBefore(before: Date): Promise<number> {
    let n = 0
    // The newest event stays, so the log's position survives (see SequencerStore.deleteBefore).
    while (n < this.#rows.length - 1 && this.#rows[n]!.time < before) n++
    this.#rows.splice(0, n)
    return n
  }
}
