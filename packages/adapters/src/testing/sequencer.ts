import type { SeqRow } from '@next-atproto/core'
import { expect, it } from 'vitest'
import { body, type SuiteContext, sleep, uniqueDid } from './fixtures.js'

/** Every page of `range` from `after` on, read `limit` at a time. */
async function readAll(ctx: SuiteContext, after: number, limit: number): Promise<SeqRow[]> {
  const out: SeqRow[] = []
  let cursor = after
  for (;;) {
    const page = await ctx.storage.sequencer.range({ after: cursor, limit })
    if (page.length === 0) return out
    expect(page.length).toBeLessThanOrEqual(limit)
    out.push(...page)
    cursor = page.at(-1)!.seq
  }
}

const consecutive = (seqs: number[], first: number) => seqs.every((s, i) => s === first + i)

/** Sequencer contract: ordered, gap-free to readers, cursor pages, retention. Keep it last (it deletes). */
export function sequencerSuite(ctx: SuiteContext): void {
  it('returns the assigned seqs in order and stores events verbatim', async () => {
    const { sequencer } = ctx.storage
    const did = uniqueDid()
    const seqs = await sequencer.append([
      { did, type: 'identity', body: body(1) },
      { did, type: 'account', body: body(2) },
    ])
    expect(seqs).toHaveLength(2)
    expect(seqs[1]).toBe(seqs[0]! + 1)
    expect(await sequencer.latest()).toBe(seqs[1])
    const rows = await sequencer.range({ after: seqs[0]! - 1, limit: 2 })
    expect(rows.map((r) => r.seq)).toEqual(seqs)
    expect(rows[0]).toMatchObject({ did, type: 'identity', body: body(1) })
    expect(rows[1]).toMatchObject({ did, type: 'account', body: body(2) })
    expect(rows[0]!.time).toBeInstanceOf(Date)
    expect(await sequencer.append([])).toEqual([])
  })

  it('orders 20 concurrent appends with no gap visible to a concurrent reader', async () => {
    const { storage } = ctx
    const start = (await storage.sequencer.latest()) ?? 0
    const dids = Array.from({ length: 20 }, uniqueDid)
    const snapshots: number[][] = []
    let writing = true
    const poller = (async () => {
      while (writing) {
        snapshots.push((await storage.sequencer.range({ after: start, limit: 100 })).map((r) => r.seq))
        await sleep(1)
      }
    })()
    await Promise.all(
      dids.map((did, i) =>
        i % 2 === 0
          ? storage.sequencer.append([{ did, type: 'identity', body: body(i) }])
          : storage.repo.transact(did, (tx) => tx.sequence([{ did, type: 'account', body: body(i) }])),
      ),
    )
    writing = false
    await poller
    const rows = await storage.sequencer.range({ after: start, limit: 100 })
    expect(rows.filter((r) => dids.includes(r.did))).toHaveLength(20)
    expect(
      consecutive(
        rows.map((r) => r.seq),
        start + 1,
      ),
    ).toBe(true)
    // Whatever moment a reader looked, it saw a prefix: never N+1 without N.
    for (const seen of snapshots) expect(consecutive(seen, start + 1)).toBe(true)
    // Small pages from the same cursor see the same sequence.
    expect((await readAll(ctx, start, 3)).map((r) => r.seq)).toEqual(rows.map((r) => r.seq))
  })

  it('pages stably while events are appended between pages', async () => {
    const { sequencer } = ctx.storage
    const did = uniqueDid()
    const start = (await sequencer.latest()) ?? 0
    await sequencer.append(
      Array.from({ length: 6 }, (_, i) => ({ did, type: 'identity' as const, body: body(i) })),
    )
    const first = await sequencer.range({ after: start, limit: 4 })
    await sequencer.append([{ did, type: 'account', body: body(99) }])
    const rest = await readAll(ctx, first.at(-1)!.seq, 4)
    const seqs = [...first, ...rest].map((r) => r.seq)
    expect(seqs).toHaveLength(7)
    expect(consecutive(seqs, start + 1)).toBe(true)
    expect(rest.at(-1)!.body).toEqual(body(99))
    expect(await sequencer.range({ after: seqs.at(-1)!, limit: 10 })).toEqual([])
  })

  it('finds the first event after a time, when supported', async () => {
    const { sequencer } = ctx.storage
    if (!sequencer.earliestAfter) return
    const did = uniqueDid()
    await sequencer.append([{ did, type: 'identity', body: body(1) }])
    await sleep(15)
    const cut = new Date()
    await sleep(15)
    const [seq] = await sequencer.append([{ did, type: 'identity', body: body(2) }])
    expect(await sequencer.earliestAfter(cut)).toBe(seq)
    expect(await sequencer.earliestAfter(new Date(Date.now() + 60_000))).toBeNull()
  })

  it('drops events before a time (retention) and moves the earliest cursor', async () => {
    const { sequencer } = ctx.storage
    const did = uniqueDid()
    const [old] = await sequencer.append([{ did, type: 'identity', body: body(1) }])
    await sleep(15)
    const cut = new Date()
    await sleep(15)
    const [recent] = await sequencer.append([{ did, type: 'identity', body: body(2) }])
    expect(await sequencer.deleteBefore(cut)).toBeGreaterThanOrEqual(1)
    expect(await sequencer.earliest()).toBe(recent)
    expect(await sequencer.latest()).toBe(recent)
    const rows = await sequencer.range({ limit: 10 })
    expect(rows.map((r) => r.seq)).toEqual([recent])
    expect(await sequencer.range({ after: old, limit: 10 })).toHaveLength(1)
    // Numbering continues after retention; it never reuses a seq.
    const [next] = await sequencer.append([{ did, type: 'identity', body: body(3) }])
    expect(next).toBe(recent! + 1)
  })

  it('prunes in batches past any batch size and always keeps the newest event', async () => {
    const { sequencer } = ctx.storage
    const did = uniqueDid()
    const seqs: number[] = []
    for (let n = 0; n < 2003; n += 250) {
      const chunk = Array.from({ length: Math.min(250, 2003 - n) }, (_, i) => ({
        did,
        type: 'identity' as const,
        body: body((n + i) % 200),
      }))
      seqs.push(...(await sequencer.append(chunk)))
    }
    await sleep(15)
    // Everything is older than `before`: all but the newest event go, and the log's position survives.
    expect(await sequencer.deleteBefore(new Date(Date.now() + 60_000))).toBeGreaterThanOrEqual(2002)
    expect(await sequencer.earliest()).toBe(seqs.at(-1))
    expect(await sequencer.latest()).toBe(seqs.at(-1))
    expect(await sequencer.deleteBefore(new Date(Date.now() + 60_000))).toBe(0)
  })
}
