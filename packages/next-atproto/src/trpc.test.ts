// The tRPC router through a real caller, over a PDS that wrote its data through XRPC, on the memory
// adapter and on SQLite (Prisma).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { memoryAdapter, prismaAdapter } from '@next-atproto/adapters'
import type { Atproto, StorageAdapter } from '@next-atproto/core'
import { initTRPC, TRPCError } from '@trpc/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sqliteClient } from '../../adapters/test/clients.js'
import { inProcessPds } from '../../core/src/pds/test-pds-app.js'
import { createAtprotoRouter } from './trpc.js'

const publicUrl = 'http://pds.test'

function makeApp(storage: StorageAdapter): Atproto {
  return inProcessPds({ publicUrl, storage }).app
}

async function xrpc(app: Atproto, nsid: string, body: unknown, token?: string) {
  const res = await app.fetch(
    new Request(`${publicUrl}/xrpc/${nsid}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    }),
  )
  const json = await res.json()
  if (res.status !== 200) throw new Error(`${nsid}: ${res.status} ${JSON.stringify(json)}`)
  return json as Record<string, any>
}

const backends: Array<[string, () => Promise<{ storage: StorageAdapter; cleanup(): Promise<void> }>]> = [
  ['memory', async () => ({ storage: memoryAdapter(), cleanup: async () => {} })],
  [
    'SQLite',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'trpc-sqlite-'))
      const client = sqliteClient(`file:${join(dir, 'trpc.db')}`)
      const storage = prismaAdapter(client, { provider: 'sqlite' })
      await storage.migrate()
      return {
        storage,
        async cleanup() {
          await storage.close()
          rmSync(dir, { recursive: true, force: true })
        },
      }
    },
  ],
]

for (const [name, backend] of backends) {
  describe(`createAtprotoRouter over ${name} storage`, () => {
    let app: Atproto
    let caller: ReturnType<ReturnType<typeof createAtprotoRouter>['createCaller']>
    let cleanup: () => Promise<void>
    let storage: StorageAdapter
    const users: Array<{ did: string; handle: string; token: string }> = []
    const postRkeys: string[] = []

    beforeAll(async () => {
      const made = await backend()
      cleanup = made.cleanup
      storage = made.storage
      app = makeApp(made.storage)
      await app.start()
      for (const handle of ['alice.test', 'bob.test', 'carol.test']) {
        const res = await xrpc(app, 'com.atproto.server.createAccount', {
          handle,
          password: 'password-1',
          email: `${handle}@mail.test`,
        })
        users.push({ did: res.did, handle, token: res.accessJwt })
      }
      const alice = users[0]!
      for (let i = 0; i < 5; i++) {
        const res = await xrpc(
          app,
          'com.atproto.repo.createRecord',
          {
            repo: alice.did,
            collection: 'app.bsky.feed.post',
            record: { $type: 'app.bsky.feed.post', text: `post ${i}`, createdAt: new Date().toISOString() },
          },
          alice.token,
        )
        postRkeys.push(res.uri.split('/').pop())
      }
      await xrpc(
        app,
        'com.atproto.repo.putRecord',
        {
          repo: alice.did,
          collection: 'app.bsky.actor.profile',
          rkey: 'self',
          record: { $type: 'app.bsky.actor.profile', displayName: 'Alice' },
        },
        alice.token,
      )
      caller = createAtprotoRouter({ storage: made.storage }).createCaller({})
    })
    afterAll(async () => {
      await app?.close()
      await cleanup?.()
    })

    it('lists hosted accounts in pages, without secrets', async () => {
      const first = await caller.accounts.list({ limit: 2 })
      expect(first.items).toHaveLength(2)
      expect(first.cursor).toBeDefined()
      const rest = await caller.accounts.list({ limit: 2, cursor: first.cursor })
      const all = [...first.items, ...rest.items]
      expect(all.map((a) => a.handle).sort()).toEqual(['alice.test', 'bob.test', 'carol.test'])
      expect(all.map((a) => a.did).sort()).toEqual(users.map((u) => u.did).sort())
      for (const account of all) {
        expect(Object.keys(account).sort()).toEqual(
          ['active', 'createdAt', 'deactivatedAt', 'did', 'handle', 'status'].sort(),
        )
        expect(account).toMatchObject({ status: 'active', active: true, deactivatedAt: null })
      }
    })

    it('gets an account by DID or handle; null when unknown', async () => {
      const bob = users[1]!
      expect(await caller.accounts.get({ did: bob.did })).toMatchObject({ handle: 'bob.test' })
      expect(await caller.accounts.get({ handle: 'BOB.test' })).toMatchObject({ did: bob.did })
      expect(await caller.accounts.get({ repo: 'bob.test' })).toMatchObject({ did: bob.did })
      expect(await caller.accounts.get({ handle: 'nobody.test' })).toBeNull()
    })

    it('lists records by author and collection, newest first, with a cursor', async () => {
      const alice = users[0]!
      const page1 = await caller.records.list({
        repo: 'alice.test',
        collection: 'app.bsky.feed.post',
        limit: 3,
      })
      expect(page1.items.map((r) => r.rkey)).toEqual([...postRkeys].reverse().slice(0, 3))
      expect(page1.items[0]).toMatchObject({
        uri: `at://${alice.did}/app.bsky.feed.post/${postRkeys[4]}`,
        did: alice.did,
        collection: 'app.bsky.feed.post',
        value: { $type: 'app.bsky.feed.post', text: 'post 4' },
      })
      const page2 = await caller.records.list({
        repo: alice.did,
        collection: 'app.bsky.feed.post',
        limit: 3,
        cursor: page1.cursor,
      })
      expect(page2.items.map((r) => r.rkey)).toEqual([postRkeys[1], postRkeys[0]])
      expect(page2.cursor).toBeUndefined()
      const oldestFirst = await caller.records.list({
        repo: alice.did,
        collection: 'app.bsky.feed.post',
        reverse: true,
      })
      expect(oldestFirst.items.map((r) => r.value)).toMatchObject(
        [0, 1, 2, 3, 4].map((i) => ({ text: `post ${i}` })),
      )
      expect(
        (await caller.records.list({ repo: 'bob.test', collection: 'app.bsky.feed.post' })).items,
      ).toEqual([])
    })

    it('gets one record (the CID matches what XRPC reports); null when absent', async () => {
      const alice = users[0]!
      const got = await caller.records.get({
        repo: alice.did,
        collection: 'app.bsky.actor.profile',
        rkey: 'self',
      })
      const viaXrpc = await (
        await app.fetch(
          new Request(
            `${publicUrl}/xrpc/com.atproto.repo.getRecord?repo=${alice.did}&collection=app.bsky.actor.profile&rkey=self`,
          ),
        )
      ).json()
      expect(got).toMatchObject({ cid: viaXrpc.cid, value: { displayName: 'Alice' } })
      expect(
        await caller.records.get({ repo: alice.did, collection: 'app.bsky.actor.profile', rkey: 'nope' }),
      ).toBeNull()
    })

    it('reports repo status', async () => {
      const alice = users[0]!
      const status = await caller.repo.status({ handle: 'alice.test' })
      expect(status).toMatchObject({ did: alice.did, active: true, records: 6 })
      expect(status.collections.sort()).toEqual(['app.bsky.actor.profile', 'app.bsky.feed.post'])
      expect(status.head).toMatch(/^bafy/)
      expect(status.rev).toMatch(/^[a-z2-7]{13}$/)
    })

    it('refuses bad input with BAD_REQUEST naming the field, unknown repos with NOT_FOUND', async () => {
      const bad = async (fn: () => Promise<unknown>, code: string, message: RegExp) => {
        const err = await fn().then(
          () => undefined,
          (e: unknown) => e,
        )
        expect(err).toBeInstanceOf(TRPCError)
        expect((err as TRPCError).code).toBe(code)
        expect((err as TRPCError).message).toMatch(message)
      }
      await bad(() => caller.records.list({ repo: 'alice.test' } as never), 'BAD_REQUEST', /collection/)
      await bad(
        () => caller.records.list({ repo: 'not a handle', collection: 'a.b.c' }),
        'BAD_REQUEST',
        /repo/,
      )
      await bad(
        () => caller.records.list({ repo: 'alice.test', collection: 'x', limit: 3 }),
        'BAD_REQUEST',
        /collection/,
      )
      await bad(
        () => caller.records.list({ repo: 'alice.test', collection: 'a.b.c', limit: 1000 }),
        'BAD_REQUEST',
        /limit/,
      )
      await bad(() => caller.accounts.get({ did: 'x', handle: 'y' } as never), 'BAD_REQUEST', /did/)
      await bad(() => caller.accounts.get({} as never), 'BAD_REQUEST', /exactly one/)
      await bad(
        () => caller.records.get({ repo: 'nobody.test', collection: 'a.b.c', rkey: 'self' }),
        'NOT_FOUND',
        /nobody/,
      )
      await bad(
        () => caller.repo.status({ did: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa' }),
        'NOT_FOUND',
        /no hosted/,
      )
    })

    it('nests in the host app router', async () => {
      const t = initTRPC.context<{ user?: string }>().create()
      const appRouter = t.router({
        atproto: createAtprotoRouter({ storage }),
        hello: t.procedure.query(({ ctx }) => `hi ${ctx.user}`),
      })
      const hostCaller = appRouter.createCaller({ user: 'x' })
      expect(await hostCaller.hello()).toBe('hi x')
      expect((await hostCaller.atproto.accounts.list()).items).toHaveLength(3)
    })
  })
}
