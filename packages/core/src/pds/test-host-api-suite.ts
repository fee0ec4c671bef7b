// The host API's behaviour, as a suite any storage runs (memory in core, SQLite in packages/adapters):
// in-process calls checked from the outside with @atproto/api and @atproto/repo.
import { AtpAgent } from '@atproto/api'
import { verifyRepoCar } from '@atproto/repo'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { Atproto } from '../atproto.js'
import { decodeCbor } from '../data/cbor.js'
import { readCar } from '../repo/car.js'
import { exportRepoBlocks } from '../storage/export.js'
import type { StorageAdapter } from '../storage/types.js'
import type { PdsService } from './index.js'
import { inProcessPds } from './test-pds-app.js'

const publicUrl = 'http://pds.test'

/** Register the host API tests over storage made by `makeStorage` (fresh, migrated). */
export function hostApiSuite(makeStorage: () => Promise<StorageAdapter>): void {
  let app: Atproto
  let service: PdsService
  let storage: StorageAdapter
  const agent = () =>
    new AtpAgent({
      service: publicUrl,
      fetch: (input, init) => app.fetch(new Request(input as string, init)),
    })
  const unique = () => Math.random().toString(36).slice(2, 9)
  const eventsOf = async (did: string) =>
    (await storage.sequencer.range({ limit: 100_000 }))
      .filter((e) => e.did === did)
      .map((e) => ({ type: e.type, body: decodeCbor(e.body) as Record<string, any> }))
  const head = async (did: string) => (await storage.repo.read(did, (r) => r.getRoot()))?.cid.toString()

  beforeAll(async () => {
    ;({ app, storage, service } = inProcessPds({ publicUrl, storage: await makeStorage() }))
    await app.start()
  })
  afterAll(async () => {
    await app.close()
    await storage.close()
  })

  it('creates a password-less account for a host user, found by DID, handle and user id', async () => {
    const userId = `user-${unique()}`
    const handle = `m${unique()}.test`
    const account = await service.host.createAccount({ userId, handle, email: `${userId}@mail.test` })
    expect(account).toMatchObject({ handle, userId, active: true, status: 'active', hasPassword: false })
    expect(account.did).toMatch(/^did:plc:/)
    for (const ref of [{ did: account.did }, { handle: handle.toUpperCase() }, { userId }]) {
      expect(await service.host.getAccount(ref)).toEqual(account)
    }
    expect(await service.host.getAccount({ userId: 'nobody' })).toBeNull()
    expect((await agent().com.atproto.identity.resolveHandle({ handle })).data.did).toBe(account.did)
    await expect(agent().login({ identifier: handle, password: '' })).rejects.toMatchObject({ status: 401 })
    expect((await eventsOf(account.did)).map((e) => e.type)).toEqual(['identity', 'account', 'sync'])
  })

  it('refuses a second account for the same user and a taken handle, leaving nothing behind', async () => {
    const userId = `user-${unique()}`
    const first = await service.host.createAccount({ userId, handle: `m${unique()}.test` })
    const handle = `m${unique()}.test`
    await expect(service.host.createAccount({ userId, handle })).rejects.toMatchObject({
      error: 'AccountExists',
    })
    expect(await service.host.getAccount({ handle })).toBeNull()
    const other = `user-${unique()}`
    await expect(service.host.createAccount({ userId: other, handle: first.handle })).rejects.toMatchObject({
      error: 'HandleNotAvailable',
    })
    expect(await service.host.getAccount({ userId: other })).toBeNull()
    await expect(service.host.createAccount({ userId: other, handle: 'no_good' })).rejects.toMatchObject({
      status: 400,
    })
  })

  it('creates an account with a password the member can sign in with', async () => {
    const handle = `m${unique()}.test`
    const account = await service.host.createAccount({
      userId: `u-${unique()}`,
      handle,
      password: 'password-1',
    })
    expect(account.hasPassword).toBe(true)
    const a = agent()
    await a.login({ identifier: handle, password: 'password-1' })
    expect(a.session?.did).toBe(account.did)
  })

  it('writes records on a member’s behalf in one commit, visible over XRPC and on the firehose', async () => {
    const { did } = await service.host.createAccount({ userId: `u-${unique()}`, handle: `m${unique()}.test` })
    const res = await service.host.writeRecords(did, [
      {
        action: 'create',
        collection: 'app.test.post',
        rkey: 'p1',
        record: { $type: 'app.test.post', text: 'a' },
      },
      { action: 'create', collection: 'app.test.post', record: { text: 'b' } }, // TID key, $type filled in
      {
        action: 'update',
        collection: 'app.test.profile',
        rkey: 'self',
        record: { $type: 'app.test.profile' },
      },
    ])
    expect(res.results).toHaveLength(3)
    expect(res.commit.cid).toBe(await head(did))
    const listed = await agent().com.atproto.repo.listRecords({ repo: did, collection: 'app.test.post' })
    expect(listed.data.records.map((r) => r.cid).sort()).toEqual(
      [res.results[0]!.cid, res.results[1]!.cid].sort(),
    )
    expect(res.results[1]!.uri).toMatch(new RegExp(`^at://${did}/app.test.post/[a-z2-7]{13}$`))
    const commits = (await eventsOf(did)).filter((e) => e.type === 'commit')
    expect(commits).toHaveLength(1)
    expect(commits[0]!.body.ops.map((o: { action: string }) => o.action)).toEqual([
      'create',
      'create',
      'create',
    ])

    const next = await service.host.writeRecords(did, [
      {
        action: 'update',
        collection: 'app.test.post',
        rkey: 'p1',
        record: { $type: 'app.test.post', text: 'a2' },
        swapRecord: res.results[0]!.cid,
      },
      { action: 'delete', collection: 'app.test.profile', rkey: 'self' },
    ])
    const got = await agent().com.atproto.repo.getRecord({
      repo: did,
      collection: 'app.test.post',
      rkey: 'p1',
    })
    expect(got.data).toMatchObject({ cid: next.results[0]!.cid, value: { text: 'a2' } })
    const doc = (await agent().com.atproto.repo.describeRepo({ repo: did })).data.didDoc as {
      verificationMethod: Array<{ publicKeyMultibase: string }>
    }
    const car = new Uint8Array((await agent().com.atproto.sync.getRepo({ did })).data)
    const verified = await verifyRepoCar(car, did, `did:key:${doc.verificationMethod[0]!.publicKeyMultibase}`)
    expect(verified.creates.map((c) => c.rkey).sort()).toEqual(
      ['p1', res.results[1]!.uri.split('/').pop()].sort(),
    )
  })

  it('keeps exactly the blocks of the current version: commits delete the nodes, commit and records they replace', async () => {
    const { did } = await service.host.createAccount({ userId: `u-${unique()}`, handle: `m${unique()}.test` })
    const post = (text: string) => ({ $type: 'app.test.post', text })
    const write = (action: 'create' | 'update' | 'delete', rkey: string, text?: string) =>
      action === 'delete'
        ? ({ action, collection: 'app.test.post', rkey } as const)
        : ({ action, collection: 'app.test.post', rkey, record: post(text!) } as const)
    const firstCids: string[] = []
    for (let i = 0; i < 40; i++) {
      const res = await service.host.writeRecords(did, [write('create', `r${i}`, `v1 ${i}`)])
      firstCids.push(res.results[0]!.cid!)
    }
    for (let i = 0; i < 40; i += 4) {
      await service.host.writeRecords(did, [
        write('update', `r${i}`, `v2 ${i}`),
        write('delete', `r${i + 1}`),
      ])
    }
    // Identical records share one block: deleting or updating away one of them keeps it for the others,
    // also when a commit deletes one copy and creates another.
    await service.host.writeRecords(did, [write('create', 'same1', 'same'), write('create', 'same2', 'same')])
    await service.host.writeRecords(did, [write('delete', 'same1')])
    await service.host.writeRecords(did, [write('update', 'r2', 'same')])
    await service.host.writeRecords(did, [write('delete', 'same2'), write('create', 'same3', 'same')])
    await service.host.writeRecords(did, [write('update', 'r2', 'v3 2')])
    // A record deleted, then created again with the same content.
    await service.host.writeRecords(did, [write('delete', 'r3')])
    await service.host.writeRecords(did, [write('create', 'r3', 'v1 3')])

    const stored = new Set<string>()
    await storage.repo.read(did, async (r) => {
      for await (const page of exportRepoBlocks(r)) for (const cid of page.cids()) stored.add(cid.toString())
    })
    // The current version is what getRepo exports (commit, every MST node, every record), and it is all
    // the store keeps: no old node, no old commit, no block of a replaced or deleted record.
    const car = await agent().com.atproto.sync.getRepo({ did })
    const current = new Set((await readCar(car.data)).blocks.cids().map(String))
    expect([...stored].sort()).toEqual([...current].sort())
    // 30 of the first 40 are left (r3 deleted and created again), plus same3.
    const records = await agent().com.atproto.repo.listRecords({
      repo: did,
      collection: 'app.test.post',
      limit: 100,
    })
    expect(records.data.records).toHaveLength(31)
    expect(records.data.records.find((r) => r.uri.endsWith('/same3'))?.value).toMatchObject({ text: 'same' })
    expect(records.data.records.find((r) => r.uri.endsWith('/r3'))?.value).toMatchObject({ text: 'v1 3' })
    // The bytes of a deleted record and of a record's old version are gone, not served by CID.
    for (const cid of [firstCids[1]!, firstCids[0]!]) {
      expect(current.has(cid)).toBe(false)
      await expect(agent().com.atproto.sync.getBlocks({ did, cids: [cid] })).rejects.toMatchObject({
        error: 'BlockNotFound',
      })
    }
    // And the repo stays whole: the reference verifies the export.
    await verifyRepoCar(car.data, did)
  })

  it('refuses bad writes atomically: nothing of the batch lands', async () => {
    const { did } = await service.host.createAccount({ userId: `u-${unique()}`, handle: `m${unique()}.test` })
    const ok = { action: 'create', collection: 'app.test.post', rkey: 'fine', record: { text: 'x' } } as const
    const before = await head(did)
    const bad = [
      [ok, { action: 'create', collection: 'app.test.post', rkey: 'bad/key', record: {} }],
      [ok, { action: 'delete', collection: 'app.test.post', rkey: 'missing' }],
      [ok, { action: 'create', collection: 'not an nsid', record: {} }],
      [ok, { action: 'create', collection: 'app.test.post', record: { $type: 'app.test.other' } }],
      [
        ok,
        {
          action: 'update',
          collection: 'app.test.post',
          rkey: 'x',
          record: {},
          swapRecord: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm',
        },
      ],
      [
        ok,
        {
          action: 'create',
          collection: 'app.test.post',
          record: {
            image: {
              $type: 'blob',
              ref: { $link: 'bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy' },
              mimeType: 'image/png',
              size: 1,
            },
          },
        },
      ],
      [],
    ]
    for (const writes of bad) {
      await expect(service.host.writeRecords(did, writes as never)).rejects.toMatchObject({ status: 400 })
    }
    await expect(
      service.host.writeRecords(did, [ok], {
        swapCommit: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm',
      }),
    ).rejects.toMatchObject({ error: 'InvalidSwap' })
    await expect(service.host.writeRecords('did:plc:nobody', [ok])).rejects.toMatchObject({
      error: 'AccountNotFound',
    })
    expect(await head(did)).toBe(before)
    expect((await eventsOf(did)).filter((e) => e.type === 'commit')).toHaveLength(0)
  })

  it('deactivates and reactivates a member (writes refused meanwhile), with #account events', async () => {
    const { did } = await service.host.createAccount({ userId: `u-${unique()}`, handle: `m${unique()}.test` })
    await service.host.deactivateAccount(did)
    expect(await service.host.getAccount({ did })).toMatchObject({ active: false, status: 'deactivated' })
    await expect(
      service.host.writeRecords(did, [{ action: 'create', collection: 'app.test.post', record: {} }]),
    ).rejects.toMatchObject({ error: 'AccountDeactivated' })
    expect((await agent().com.atproto.sync.getRepoStatus({ did })).data).toMatchObject({
      active: false,
      status: 'deactivated',
    })
    await service.host.activateAccount(did)
    await service.host.writeRecords(did, [{ action: 'create', collection: 'app.test.post', record: {} }])
    const accountEvents = (await eventsOf(did)).filter((e) => e.type === 'account').map((e) => e.body)
    expect(accountEvents.map((b) => [b.active, b.status])).toEqual([
      [true, undefined],
      [false, 'deactivated'],
      [true, undefined],
    ])
  })

  it('deletes a member’s account; the user may get a new one', async () => {
    const userId = `u-${unique()}`
    const { did } = await service.host.createAccount({ userId, handle: `m${unique()}.test` })
    await service.host.deleteAccount(did)
    expect(await service.host.getAccount({ userId })).toBeNull()
    expect(await service.host.getAccount({ did })).toBeNull()
    await expect(agent().com.atproto.sync.getRepoStatus({ did })).rejects.toMatchObject({
      error: 'RepoNotFound',
    })
    expect((await eventsOf(did)).at(-1)?.body).toMatchObject({ active: false, status: 'deleted' })
    const again = await service.host.createAccount({ userId, handle: `m${unique()}.test` })
    expect(again.did).not.toBe(did)
  })
}
