// The sequencer over an in-process log: with nobody listening it only follows the end of the log, and a
// subscriber joining later (no cursor) gets what comes after it joined, while one with a cursor still
// gets the whole replay.
import { describe, expect, it } from 'vitest'
import { encodeCbor } from '../data/cbor.js'
import type { SeqRow } from '../storage/types.js'
import { decodeFrame } from '../xrpc/frames.js'
import { Sequencer, type SequencerSource } from './sequencer.js'

function log() {
  const rows: SeqRow[] = []
  let ranges = 0
  const source: SequencerSource = {
    async range({ after = 0, limit }) {
      ranges++
      return rows.filter((r) => r.seq > after).slice(0, limit)
    },
    async latest() {
      return rows.at(-1)?.seq ?? null
    },
    async earliest() {
      return rows[0]?.seq ?? null
    },
  }
  const append = (n: number) => {
    for (let i = 0; i < n; i++) {
      const seq = rows.length + 1
      rows.push({
        seq,
        did: 'did:plc:x',
        type: 'identity',
        body: encodeCbor({ did: 'did:plc:x', n: seq }),
        time: new Date(),
      })
    }
  }
  return { source, append, ranges: () => ranges }
}

const tick = () => new Promise((r) => setTimeout(r, 5))

async function take(frames: AsyncGenerator<unknown>, count: number): Promise<number[]> {
  const seqs: number[] = []
  while (seqs.length < count) {
    const { value } = await frames.next()
    const frame = decodeFrame((value as { bytes: Uint8Array }).bytes)
    seqs.push((frame.body as { seq: number }).seq)
  }
  return seqs
}

describe('Sequencer', () => {
  it('reads no events while nobody listens, then delivers only what follows a live subscription', async () => {
    const { source, append, ranges } = log()
    const seq = new Sequencer(source)
    await seq.start()
    for (let i = 0; i < 20; i++) {
      append(1)
      seq.wake()
      await tick()
    }
    expect(ranges()).toBe(0)
    const ac = new AbortController()
    const live = seq.subscribe(undefined, ac.signal)
    const first = take(live, 2)
    await tick()
    append(2)
    seq.wake()
    expect(await first).toEqual([21, 22])
    // A cursor still replays everything after it.
    const replay = seq.subscribe(5, ac.signal)
    expect(await take(replay, 17)).toEqual(Array.from({ length: 17 }, (_, i) => 6 + i))
    ac.abort()
    await seq.close()
  })

  it('published(): resolves once what was committed before the call is handed to subscribers', async () => {
    const { source, append, ranges } = log()
    const seq = new Sequencer(source)
    await seq.start()
    // Nobody listens: nothing to wait for, and no read of the events.
    append(1)
    await seq.published()
    await tick() // (the wake-up it left follows the end of the log)
    expect(ranges()).toBe(0)

    const ac = new AbortController()
    const live = seq.subscribe(undefined, ac.signal)
    const got = take(live, 3)
    await tick()
    let emitted = 0
    seq.onEvents(() => emitted++)
    append(3)
    await seq.published()
    // Published before it resolved: the listeners ran, and the subscriber gets exactly these.
    expect(emitted).toBe(1)
    expect(await got).toEqual([2, 3, 4])
    ac.abort()
    await seq.close()
  })

  it('published(): a call during a read waits for the next read, which starts after it', async () => {
    const { source, append } = log()
    const gates: Array<() => void> = []
    const slow: SequencerSource = {
      ...source,
      async range(opts) {
        await new Promise<void>((r) => gates.push(r))
        return source.range(opts)
      },
    }
    const seq = new Sequencer(slow)
    await seq.start()
    const seen: number[] = []
    const ac = new AbortController()
    const live = seq.subscribe(undefined, ac.signal)
    const reader = (async () => {
      for await (const f of live)
        seen.push((decodeFrame((f as { bytes: Uint8Array }).bytes).body as { seq: number }).seq)
    })()
    await tick()
    append(1)
    let first = false
    let second = false
    void seq.published().then(() => (first = true))
    await tick()
    expect(gates).toHaveLength(1) // the first read is in progress
    // A commit lands while it runs: that read may have missed it, so its caller waits for the next one.
    append(1)
    void seq.published().then(() => (second = true))
    gates.shift()!()
    await tick()
    expect(first).toBe(true)
    expect(second).toBe(false)
    expect(gates).toHaveLength(1)
    gates.shift()!()
    await tick()
    expect(second).toBe(true)
    expect(seen).toEqual([1, 2])
    ac.abort()
    await seq.close()
    await reader
  })

  it('published(): gives up after its timeout when the log does not answer (the write stands)', async () => {
    const { source, append } = log()
    const stuck: SequencerSource = { ...source, range: () => new Promise(() => {}) }
    const seq = new Sequencer(stuck)
    await seq.start()
    const ac = new AbortController()
    const live = seq.subscribe(undefined, ac.signal)
    void live.next()
    await tick()
    append(1)
    const t0 = performance.now()
    await seq.published(30)
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25)
    ac.abort()
  })
})
