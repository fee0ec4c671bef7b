import { cidForRaw } from '@next-atproto/core'
import { expect, it } from 'vitest'
import { type SuiteContext, sleep, uniqueDid } from './fixtures.js'

const blobCid = (s: string) => cidForRaw(new TextEncoder().encode(s))

/** Blob metadata contract: temp tracking, references from records, GC listings, takedowns. */
export function blobMetaSuite(ctx: SuiteContext): void {
  it('tracks a temporary blob and makes it permanent when a record references it', async () => {
    const { blobs } = ctx.storage
    const did = uniqueDid()
    const cid = blobCid(`img-${did}`)
    await blobs.track({ did, cid, mimeType: 'image/png', size: 123, tempKey: 'tmp-1' })
    await blobs.track({ did, cid, mimeType: 'image/jpeg', size: 999, tempKey: 'tmp-2' }) // re-upload: no-op
    expect(await blobs.get(did, cid)).toMatchObject({
      mimeType: 'image/png',
      size: 123,
      tempKey: 'tmp-1',
      takedown: false,
    })
    expect((await blobs.get(did, cid))?.createdAt).toBeInstanceOf(Date)
    expect(await blobs.list(did, { limit: 10 })).toEqual([]) // temporary blobs are not listed
    expect(await blobs.get(uniqueDid(), cid)).toBeNull() // metadata is per account

    await blobs.addRefs(did, `at://${did}/app.test.post/a`, [cid])
    expect((await blobs.get(did, cid))?.tempKey).toBeNull()
    expect((await blobs.list(did, { limit: 10 })).map(String)).toEqual([cid.toString()])
  })

  it('reports a blob unreferenced only when its last record lets go', async () => {
    const { blobs } = ctx.storage
    const did = uniqueDid()
    const cid = blobCid(`shared-${did}`)
    const [a, b] = [`at://${did}/app.test.post/a`, `at://${did}/app.test.post/b`]
    await blobs.track({ did, cid, mimeType: 'image/png', size: 1, tempKey: 'k' })
    await blobs.addRefs(did, a, [cid])
    await blobs.addRefs(did, b, [cid])
    expect(await blobs.removeRefs(did, a)).toEqual([])
    expect((await blobs.removeRefs(did, b)).map(String)).toEqual([cid.toString()])
    expect(await blobs.removeRefs(did, b)).toEqual([]) // already gone
    await blobs.delete(did, [cid])
    expect(await blobs.get(did, cid)).toBeNull()
  })

  it('tells which CIDs no account holds anymore (byte GC), when supported', async () => {
    const { blobs } = ctx.storage
    if (!blobs.unreferenced) return
    const [a, b] = [uniqueDid(), uniqueDid()]
    const [shared, solo, temp] = ['shared', 'solo', 'temp'].map((s) => blobCid(`gc-${s}-${a}`))
    for (const did of [a, b])
      await blobs.track({ did, cid: shared!, mimeType: 'image/png', size: 1, tempKey: null })
    await blobs.track({ did: a, cid: solo!, mimeType: 'image/png', size: 1, tempKey: null })
    await blobs.track({ did: b, cid: temp!, mimeType: 'image/png', size: 1, tempKey: 'upload' })
    await blobs.delete(a, [shared!, solo!])
    const gone = await blobs.unreferenced([shared!, solo!, temp!])
    expect(gone.map(String)).toEqual([solo!.toString()]) // b still holds shared; a temp upload counts
  })

  it('lists referenced blobs the account lacks (listMissingBlobs)', async () => {
    const { blobs } = ctx.storage
    const did = uniqueDid()
    const [have, lack] = [blobCid(`have-${did}`), blobCid(`lack-${did}`)]
    await blobs.track({ did, cid: have, mimeType: 'image/png', size: 1, tempKey: 'k' })
    await blobs.addRefs(did, `at://${did}/app.test.post/a`, [have, lack])
    const missing = await blobs.listMissing(did, { limit: 10 })
    expect(missing.map((m) => m.cid.toString())).toEqual([lack.toString()])
    expect(missing[0]!.recordUri).toBe(`at://${did}/app.test.post/a`)
    expect(await blobs.listMissing(did, { limit: 10, cursor: lack.toString() })).toEqual([])
  })

  it('tells whether a record of the account references a CID (hasRefs), when supported', async () => {
    const { blobs } = ctx.storage
    if (!blobs.hasRefs) return
    const did = uniqueDid()
    const cid = blobCid(`refs-${did}`)
    expect(await blobs.hasRefs(did, cid)).toBe(false)
    await blobs.addRefs(did, `at://${did}/app.test.post/a`, [cid])
    expect(await blobs.hasRefs(did, cid)).toBe(true)
    expect(await blobs.hasRefs(uniqueDid(), cid)).toBe(false) // per account
    await blobs.removeRefs(did, `at://${did}/app.test.post/a`)
    expect(await blobs.hasRefs(did, cid)).toBe(false)
  })

  it('pages an account’s blobs by CID', async () => {
    const { blobs } = ctx.storage
    const did = uniqueDid()
    const cids = Array.from({ length: 5 }, (_, i) => blobCid(`page-${did}-${i}`))
    for (const cid of cids) {
      await blobs.track({ did, cid, mimeType: 'image/png', size: 1, tempKey: `k-${cid}` })
      await blobs.addRefs(did, `at://${did}/app.test.post/${cid}`, [cid])
    }
    const seen: string[] = []
    let cursor: string | undefined
    for (;;) {
      const page = await blobs.list(did, { limit: 2, cursor })
      if (page.length === 0) break
      seen.push(...page.map(String))
      cursor = page.at(-1)!.toString()
    }
    expect(seen).toEqual(cids.map(String).sort())
  })

  it('lists stale temporary blobs for garbage collection', async () => {
    const { blobs } = ctx.storage
    const did = uniqueDid()
    const [stale, fresh, kept] = ['stale', 'fresh', 'kept'].map((s) => blobCid(`${s}-${did}`))
    await blobs.track({ did, cid: stale!, mimeType: 'image/png', size: 1, tempKey: `t-stale-${did}` })
    await blobs.track({ did, cid: kept!, mimeType: 'image/png', size: 1, tempKey: `t-kept-${did}` })
    await blobs.addRefs(did, `at://${did}/app.test.post/k`, [kept!])
    await sleep(15)
    const cut = new Date()
    await sleep(15)
    await blobs.track({ did, cid: fresh!, mimeType: 'image/png', size: 1, tempKey: `t-fresh-${did}` })
    const listed = (await blobs.listStaleTemp(cut, 1000)).filter((b) => b.did === did)
    expect(listed.map((b) => b.tempKey)).toEqual([`t-stale-${did}`])
  })

  it('flags and clears a takedown', async () => {
    const { blobs } = ctx.storage
    const did = uniqueDid()
    const cid = blobCid(`td-${did}`)
    await blobs.track({ did, cid, mimeType: 'image/png', size: 1, tempKey: null })
    await blobs.setTakedown(did, cid, true)
    expect((await blobs.get(did, cid))?.takedown).toBe(true)
    await blobs.setTakedown(did, cid, false)
    expect((await blobs.get(did, cid))?.takedown).toBe(false)
  })
}
