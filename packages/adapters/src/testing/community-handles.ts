import { HandleTakenError } from '@next-atproto/core'
import { expect, it } from 'vitest'
import { type SuiteContext, uniqueDid } from './fixtures.js'

/** Community handles (optional part): exercised when the adapter has the store. */
export function communityHandleSuite(ctx: SuiteContext): void {
  it('registers a handle once (concurrently too), lists by DID, deletes', async () => {
    const store = ctx.storage.communityHandles
    if (!store) return
    const did = uniqueDid()
    const tag = did.slice(-8)
    const handle = `m${tag}.example.org`
    const results = await Promise.allSettled(
      Array.from({ length: 4 }, (_, i) => store.create({ handle, did: i === 0 ? did : uniqueDid() })),
    )
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(HandleTakenError)
    const winner = (await store.get(handle.toUpperCase()))!
    expect(winner.handle).toBe(handle)
    expect(winner.createdAt).toBeInstanceOf(Date)
    await store.create({ handle: `n${tag}.Example.Org`, did: winner.did })
    expect((await store.listForDid(winner.did)).map((r) => r.handle)).toEqual([handle, `n${tag}.example.org`])
    expect(await store.delete(handle)).toBe(true)
    expect(await store.delete(handle)).toBe(false)
    expect(await store.get(handle)).toBeNull()
    expect((await store.listForDid(winner.did)).map((r) => r.handle)).toEqual([`n${tag}.example.org`])
  })
}
