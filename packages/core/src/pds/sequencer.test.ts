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
})
