/**
 * The OAuth client's refresh lease across separate database clients (as separate processes would have):
 * two PrismaClients on one database race for the lease of one session, and exactly one wins, on SQLite,
 * PostgreSQL and MySQL. The lease is what keeps two AppView processes from both spending a single-use
 * refresh token.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { OAuthClientSessionRecord, StorageAdapter } from '@next-atproto/core'
import { afterAll, describe, expect, it } from 'vitest'
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
