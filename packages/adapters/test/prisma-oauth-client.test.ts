/**
 * The OAuth client's refresh lease across separate database clients (as separate processes would have):
 * two PrismaClients on one database race for the lease of one session, and exactly one wins, on SQLite,
 * PostgreSQL and MySQL. The lease is what keeps two AppView processes from both spending a single-use
 * refresh token; the last test has two OAuth clients on two database clients refresh one real session
 * against our authorization server.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  developmentClientMetadata,
  OAuthClient,
  type OAuthClientSessionRecord,
  type StorageAdapter,
} from '@next-atproto/core'
import { afterAll, describe, expect, it } from 'vitest'
import { TestBrowser } from '../../core/src/oauth/test-oauth.js'
import { startTestPds } from '../../core/src/oauth-client/test-pds.js'
import { prismaAdapter } from '../src/index.js'
import { mysqlClient, postgresClient, sqliteClient } from './clients.js'
import {
  createMysqlDatabase,
  createPostgresDatabase,
  mysqlAvailable,
  postgresAvailable,
} from './databases.js'

const record = (id: string): OAuthClientSessionRecord => ({
  id,
  did: 'did:plc:leaseleaseleaseleaselease',
  issuer: 'https://pds.example',
  pdsUrl: 'https://pds.example',
  dpopKey: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' },
  authMethod: { method: 'none' },
  tokens: { accessToken: 'a0', tokenType: 'DPoP', refreshToken: 'r0', scope: 'atproto', sub: 'did:plc:x' },
  version: 0,
  createdAt: Date.now(),
  updatedAt: Date.now(),
})

function leaseSuite(
  name: string,
  open: () => Promise<{ a: StorageAdapter; b: StorageAdapter; drop(): Promise<void> }>,
) {
  describe(name, () => {
    let env: Awaited<ReturnType<typeof open>>
    afterAll(async () => {
      await env?.a.close()
      await env?.b.close()
      await env?.drop()
    })

    it('one winner among two clients racing for the refresh lease, then one token swap', async () => {
      env = await open()
      const { a, b } = env
      for (let round = 0; round < 5; round++) {
        const id = `lease-${round}`
        await a.oauthClient!.createSession(record(id))
        const now = Date.now()
        const racers = Array.from({ length: 8 }, (_, i) =>
          (i % 2 ? a : b).oauthClient!.acquireRefreshLock(id, `p${i}`, now + 30_000, now),
        )
        const wins = await Promise.all(racers)
        expect(wins.filter(Boolean)).toHaveLength(1)
        const owner = `p${wins.indexOf(true)}`
        const tokens = { ...record(id).tokens, accessToken: `a${round + 1}` }
        const swaps = await Promise.all([
          a.oauthClient!.saveRefreshedTokens(id, owner, tokens),
          b.oauthClient!.saveRefreshedTokens(id, owner, tokens),
        ])
        expect(swaps.filter(Boolean)).toHaveLength(1)
        const seen = await b.oauthClient!.getSession(id)
        expect(seen).toMatchObject({ version: 1, tokens })
        expect(seen!.lock).toBeUndefined()
      }
    }, 60_000)
  })
}

leaseSuite('SQLite (two clients on one file)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'atproto-lease-'))
  const url = `file:${join(dir, 'lease.db')}`
  const a = prismaAdapter(sqliteClient(url), { provider: 'sqlite' })
  await a.migrate()
  const b = prismaAdapter(sqliteClient(url), { provider: 'sqlite' })
  return { a, b, drop: async () => rmSync(dir, { recursive: true, force: true }) }
})

if (await postgresAvailable()) {
  leaseSuite('PostgreSQL (two clients)', async () => {
    const db = await createPostgresDatabase()
    const a = prismaAdapter(postgresClient(db.url), { provider: 'postgresql' })
    await a.migrate()
    return { a, b: prismaAdapter(postgresClient(db.url), { provider: 'postgresql' }), drop: () => db.drop() }
  })
}

if (await mysqlAvailable()) {
  leaseSuite('MySQL (two clients)', async () => {
    const db = await createMysqlDatabase()
    const a = prismaAdapter(mysqlClient(db.url), { provider: 'mysql' })
    await a.migrate()
    return { a, b: prismaAdapter(mysqlClient(db.url), { provider: 'mysql' }), drop: () => db.drop() }
  })
}

describe('two OAuth clients on two SQLite connections refresh one session', () => {
  it('sends one refresh request; both clients get the new tokens and keep working', async () => {
    const pds = await startTestPds()
    const dir = mkdtempSync(join(tmpdir(), 'atproto-lease-e2e-'))
    const url = `file:${join(dir, 'appview.db')}`
    const dbA = prismaAdapter(sqliteClient(url), { provider: 'sqlite' })
    await dbA.migrate()
    const dbB = prismaAdapter(sqliteClient(url), { provider: 'sqlite' })
    try {
      const user = await pds.createAccount('lease')
      const metadata = developmentClientMetadata({
        redirectUris: ['http://127.0.0.1/oauth/callback'],
        scope: 'atproto transition:generic',
      })
      const make = (db: StorageAdapter) =>
        new OAuthClient({
          metadata,
          store: db.oauthClient!,
          identity: pds.identity(),
          fetch: { allowHttp: true, allowLoopback: true },
        })
      const a = make(dbA)
      const b = make(dbB)
      const location = await new TestBrowser().authorize(await a.authorize(user.handle), {
        identifier: user.handle,
        password: user.password,
      })
      const { session } = await a.callback(new URL(location).searchParams)
      const sb = await b.restore(session.id)
      const mark = pds.log.length
      await Promise.all([session.refresh(0), sb.refresh(0), session.refresh(0), sb.refresh(0)])
      const token = pds.log.slice(mark).filter((l) => l.path === '/oauth/token')
      expect(token.filter((l) => l.status === 200)).toHaveLength(1)
      expect(token.filter((l) => l.status !== 200).every((l) => l.error === 'use_dpop_nonce')).toBe(true)
      const row = (await dbB.oauthClient!.getSession(session.id))!
      expect(row.version).toBe(1)
      expect((await sb.getTokens(false)).accessToken).toBe(row.tokens.accessToken)
      for (const s of [session, sb]) {
        const res = await s.fetch('/xrpc/com.atproto.server.getSession')
        expect(res.status).toBe(200)
      }
    } finally {
      await dbA.close()
      await dbB.close()
      await pds.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
