import { UniqueConstraintError } from '@next-atproto/core'
import { expect, it } from 'vitest'
import { type SuiteContext, uniqueDid } from './fixtures.js'

/** Takedowns and host-user links (optional parts: skipped when the adapter has none). */
export function moderationSuite(ctx: SuiteContext): void {
  it('records, replaces, filters and lifts takedowns by subject', async () => {
    const store = ctx.storage.takedowns
    if (!store) return
    const did = uniqueDid()
    const [a, b, c] = ['a', 'b', 'c'].map((r) => `at://${did}/app.test.post/${r}`)
    expect(await store.get(a!)).toBeNull()
    await store.put(a!, 'ticket-1')
    await store.put(b!, 'ticket-2')
    await store.put(a!, 'ticket-3') // replaces
    expect(await store.get(a!)).toMatchObject({ subject: a, ref: 'ticket-3' })
    expect((await store.get(a!))?.createdAt).toBeInstanceOf(Date)
    expect(await store.filter([c!, b!, a!])).toEqual([b, a])
    expect(await store.filter([])).toEqual([])
    await store.remove(a!)
    await store.remove(a!) // no-op
    expect(await store.get(a!)).toBeNull()
    expect(await store.filter([a!, b!])).toEqual([b])
  })

  it('links a host user to one account, both ways unique', async () => {
    const store = ctx.storage.hostUsers
    if (!store) return
    const [d1, d2] = [uniqueDid(), uniqueDid()]
    const [u1, u2] = [`user-${d1}`, `user-${d2}`]
    await store.link(u1, d1)
    expect(await store.getDid(u1)).toBe(d1)
    expect(await store.getUserId(d1)).toBe(u1)
    await expect(store.link(u1, d2)).rejects.toMatchObject({ name: 'UniqueConstraintError', field: 'userId' })
    await expect(store.link(u2, d1)).rejects.toBeInstanceOf(UniqueConstraintError)
    await expect(store.link(u2, d1)).rejects.toMatchObject({ field: 'did' })
    expect(await store.getDid(u2)).toBeNull()
    await store.unlink(d1)
    await store.unlink(d1)
    expect(await store.getDid(u1)).toBeNull()
    expect(await store.getUserId(d1)).toBeNull()
    await store.link(u2, d1) // free again
    expect(await store.getUserId(d1)).toBe(u2)
  })
}
