/**
 * The optional parts of the Prisma adapter (OAuth store, identity cache, indexer) on real SQLite,
 * PostgreSQL and MySQL databases. The atomic OAuth methods are raced with concurrent callers: exactly one
 * may win, since a second winner is a replayed DPoP proof, a double-spent code or a forked token family.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { CodeGrant, OAuthSessionRecord, StorageAdapter } from '@next-atproto/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { indexerCursor, prismaAdapter } from '../src/prisma/index.js'
import { mysqlClient, postgresClient, sqliteClient } from './clients.js'
import {
  createMysqlDatabase,
  createPostgresDatabase,
  mysqlAvailable,
  postgresAvailable,
  type TestDatabase,
} from './databases.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const grant: CodeGrant = {
  clientId: 'https://app.example/client-metadata.json',
  clientAuth: { method: 'none' } as CodeGrant['clientAuth'],
  sub: 'did:plc:alice',
  scope: 'atproto transition:generic',
  redirectUri: 'https://app.example/callback',
  codeChallenge: 'challenge',
  dpopJkt: 'jkt',
  requestId: 'req-1',
}
const session = (id: string, over: Partial<OAuthSessionRecord> = {}): OAuthSessionRecord => ({
  id,
  sub: 'did:plc:alice',
  clientId: grant.clientId,
  clientAuth: grant.clientAuth,
  scope: grant.scope,
  dpopJkt: 'jkt',
  code: `code-of-${id}`,
  refreshTokenHash: `hash-${id}-0`,
  refreshExpiresAt: Date.now() + 3600_000,
  createdAt: Date.now(),
  expiresAt: Date.now() + 14 * 86400_000,
  ...over,
})
/** Run `n` calls at once and count the ones that won. */
async function race<T>(n: number, fn: () => Promise<T>, won: (r: T) => boolean): Promise<number> {
  return (await Promise.all(Array.from({ length: n }, fn))).filter(won).length
}

function optionalSuite(
  name: string,
  create: () => Promise<{ storage: StorageAdapter; cleanup(): Promise<void> }>,
) {
  describe(name, () => {
    let storage: StorageAdapter
    let cleanup: () => Promise<void>
    beforeAll(async () => {
      ;({ storage, cleanup } = await create())
    }, 60_000)
    afterAll(() => cleanup?.())

    const oauth = () => storage.oauth!

    it('has every optional part when the client was generated with its fragments', () => {
      expect(storage.oauth).toBeDefined()
      expect(storage.identityCache).toBeDefined()
      expect(storage.indexer).toBeDefined()
      expect(storage.oauthClient).toBeDefined()
    })

    it('unique(): one winner per live key, expired keys usable again', async () => {
      expect(await oauth().unique('dpop-jti', 'j1', 60_000)).toBe(true)
      expect(await oauth().unique('dpop-jti', 'j1', 60_000)).toBe(false)
      expect(await oauth().unique('client-assertion', 'j1', 60_000)).toBe(true)
      expect(
        await race(12, () => Promise.resolve(oauth().unique('dpop-jti', 'raced', 60_000)), Boolean),
      ).toBe(1)
      expect(await oauth().unique('dpop-jti', 'short', 1)).toBe(true)
      await sleep(10)
      expect(await oauth().unique('dpop-jti', 'short', 60_000)).toBe(true)
      expect(await oauth().unique('dpop-jti', 'x'.repeat(400), 60_000)).toBe(true)
      expect(await oauth().unique('dpop-jti', 'x'.repeat(400), 60_000)).toBe(false)
    })

    it('authorization requests: patch keeps fields, exactly one consumer', async () => {
      const record = {
        id: 'urn:req:1',
        clientId: grant.clientId,
        clientAuth: grant.clientAuth,
        parameters: { client_id: grant.clientId, scope: 'atproto' } as any,
        dpopJkt: 'jkt',
        createdAt: Date.now(),
        expiresAt: Date.now() + 300_000,
      }
      await oauth().createRequest(record)
      await oauth().updateRequest(record.id, { deviceId: 'dev1' })
      await oauth().updateRequest(record.id, { sub: 'did:plc:alice' })
      expect(await oauth().readRequest(record.id)).toEqual({
        ...record,
        deviceId: 'dev1',
        sub: 'did:plc:alice',
      })
      await oauth().updateRequest('urn:req:missing', { sub: 'x' })
      expect(
        await race(
          8,
          () => Promise.resolve(oauth().consumeRequest(record.id)),
          (r) => r !== null,
        ),
      ).toBe(1)
      expect(await oauth().readRequest(record.id)).toBeNull()
    })

    it('codes: one first use, every later use is a detected replay; unknown/expired are null', async () => {
      await oauth().createCode('code-1', grant, Date.now() + 60_000)
      const results = await Promise.all(Array.from({ length: 8 }, () => oauth().consumeCode('code-1')))
      expect(results.filter((r) => r?.reused === false)).toHaveLength(1)
      expect(results.filter((r) => r?.reused === true)).toHaveLength(7)
      expect(results[0]!.grant).toEqual(grant)
      expect(await oauth().consumeCode('code-1')).toMatchObject({ reused: true })
      expect(await oauth().consumeCode('nope')).toBeNull()
      await oauth().createCode('code-expired', grant, Date.now() - 1)
      expect(await oauth().consumeCode('code-expired')).toBeNull()
    })

    it('sessions: compare-and-swap rotation with one winner, rotated hashes still found', async () => {
      const s = session('s1')
      await oauth().createSession(s)
      expect(await oauth().getSession('s1')).toEqual(s)
      expect(await oauth().findSessionByRefreshToken(s.refreshTokenHash)).toEqual({
        session: s,
        current: true,
      })
      const winners = await race(
        8,
        () =>
          Promise.resolve(
            oauth().rotateRefreshToken('s1', 'hash-s1-0', `hash-s1-${Math.random()}`, Date.now() + 1000),
          ),
        Boolean,
      )
      expect(winners).toBe(1)
      const old = await oauth().findSessionByRefreshToken('hash-s1-0')
      expect(old?.current).toBe(false)
      expect((await oauth().findSessionByRefreshToken(old!.session.refreshTokenHash))?.current).toBe(true)
      await oauth().revokeSession('s1')
      const revoked = await oauth().getSession('s1')
      expect(revoked?.revokedAt).toBeTypeOf('number')
      expect(await oauth().rotateRefreshToken('s1', revoked!.refreshTokenHash, 'h-after', Date.now())).toBe(
        false,
      )
    })

    it('sessions: revoke by code, list only live ones', async () => {
      await oauth().createSession(session('s2', { code: 'shared', sub: 'did:plc:bob' }))
      await oauth().createSession(session('s3', { code: 'shared', sub: 'did:plc:bob' }))
      await oauth().createSession(session('s4', { sub: 'did:plc:bob' }))
      await oauth().createSession(session('s5', { sub: 'did:plc:bob', expiresAt: Date.now() - 1 }))
      await oauth().revokeSessionsByCode('shared')
      expect((await oauth().listSessions('did:plc:bob')).map((s) => s.id)).toEqual(['s4'])
    })

    it('device sessions and the client metadata cache expire', async () => {
      await oauth().createDeviceSession({
        deviceId: 'd1',
        sub: 'did:plc:alice',
        expiresAt: Date.now() + 60_000,
      })
      expect(await oauth().getDeviceSession('d1')).toMatchObject({ sub: 'did:plc:alice' })
      await oauth().createDeviceSession({ deviceId: 'd1', sub: 'did:plc:bob', expiresAt: Date.now() - 1 })
      expect(await oauth().getDeviceSession('d1')).toBeNull()
      await oauth().deleteDeviceSession('d1')

      const longId = `http://localhost/?redirect_uri=${encodeURIComponent(`http://127.0.0.1/${'cb/'.repeat(80)}`)}`
      const metadata = { client_id: longId, redirect_uris: ['http://127.0.0.1/cb'] } as any
      await oauth().setCachedClient(longId, metadata, Date.now() + 60_000)
      expect(await oauth().getCachedClient(longId)).toEqual(metadata)
      await oauth().setCachedClient(longId, metadata, Date.now() - 1)
      expect(await oauth().getCachedClient(longId)).toBeNull()
    })

    it('identity cache: JSON values with their update time; delete', async () => {
      const cache = storage.identityCache!
      const doc = { id: 'did:plc:alice', alsoKnownAs: ['at://alice.test'], service: [{ id: '#atproto_pds' }] }
      const before = Date.now()
      await cache.set('did:did:plc:alice', doc)
      const hit = await cache.get('did:did:plc:alice')
      expect(hit?.value).toEqual(doc)
      expect(hit!.updatedAt).toBeGreaterThanOrEqual(before - 5)
      await cache.set('did:did:plc:alice', 'did:plc:other')
      expect((await cache.get('did:did:plc:alice'))?.value).toBe('did:plc:other')
      await cache.delete?.('did:did:plc:alice')
      expect(await cache.get('did:did:plc:alice')).toBeNull()
      expect(await cache.get('handle:unknown.test')).toBeNull()
    })

    it('indexer: cursors, upserts keeping indexedAt, newest-first pages, author filter', async () => {
      const idx = storage.indexer!
      expect(await idx.getCursor('firehose')).toBeNull()
      await idx.setCursor('firehose', '41')
      await idx.setCursor('firehose', '42')
      expect(await idx.getCursor('firehose')).toBe('42')

      const t0 = Date.UTC(2026, 0, 1)
      for (let i = 0; i < 5; i++) {
        const did = i % 2 ? 'did:plc:bob' : 'did:plc:alice'
        await idx.putRow({
          collection: 'dev.blog.post',
          uri: `at://${did}/dev.blog.post/${i}`,
          did,
          rkey: String(i),
          cid: `cid${i}`,
          value: { title: `post ${i}` },
          // Two rows share a timestamp: the uri breaks the tie, so pages stay stable.
          indexedAt: new Date(t0 + Math.min(i, 3) * 1000),
        })
      }
      await idx.putRow({
        collection: 'dev.blog.post',
        uri: 'at://did:plc:alice/dev.blog.post/0',
        did: 'did:plc:alice',
        rkey: '0',
        cid: 'cid0-v2',
        value: { title: 'edited' },
      })
      const page1 = await idx.listRows('dev.blog.post', { limit: 2 })
      // Newest first; the tie at t0+3 is broken by uri, descending.
      expect(page1.map((r) => r.uri)).toEqual([
        'at://did:plc:bob/dev.blog.post/3',
        'at://did:plc:alice/dev.blog.post/4',
      ])
      const page2 = await idx.listRows('dev.blog.post', { limit: 10, cursor: indexerCursor(page1[1]!) })
      expect(page2.map((r) => r.uri.split('/').pop())).toEqual(['2', '1', '0'])
      expect(page2.at(-1)).toMatchObject({
        cid: 'cid0-v2',
        value: { title: 'edited' },
        indexedAt: new Date(t0),
      })
      const bob = await idx.listRows('dev.blog.post', { limit: 10, did: 'did:plc:bob' })
      expect(bob.map((r) => r.uri)).toEqual([
        'at://did:plc:bob/dev.blog.post/3',
        'at://did:plc:bob/dev.blog.post/1',
      ])
      await idx.deleteRow('at://did:plc:bob/dev.blog.post/3')
      expect(await idx.listRows('dev.blog.post', { limit: 10, did: 'did:plc:bob' })).toHaveLength(1)
      expect(await idx.listRows('dev.other', { limit: 10 })).toEqual([])
    })
  })
}

const dir = mkdtempSync(join(tmpdir(), 'atproto-optional-'))
optionalSuite('prisma sqlite: optional parts', async () => {
  const storage = prismaAdapter(sqliteClient(`file:${join(dir, 'o.db')}`), { provider: 'sqlite' })
  await storage.migrate()
  return {
    storage,
    async cleanup() {
      await storage.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
})

async function serverSuite(
  name: string,
  createDb: () => Promise<TestDatabase>,
  client: (url: string) => unknown,
  provider: 'postgresql' | 'mysql',
) {
  optionalSuite(name, async () => {
    const db = await createDb()
    const storage = prismaAdapter(client(db.url), { provider })
    await storage.migrate()
    return {
      storage,
      async cleanup() {
        await storage.close()
        await db.drop()
      },
    }
  })
}

if (await postgresAvailable()) {
  await serverSuite('prisma postgresql: optional parts', createPostgresDatabase, postgresClient, 'postgresql')
}
if (await mysqlAvailable()) {
  await serverSuite('prisma mysql: optional parts', createMysqlDatabase, mysqlClient, 'mysql')
}
