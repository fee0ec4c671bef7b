// With sqliteWal, SQLite files are put in WAL mode at migration and start-up (check); by default the
// file's journal mode is left alone (host-app.test.ts shows why: the Prisma CLI must still migrate it).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { prismaAdapter } from '../src/prisma/index.js'
import { sqliteClient } from './clients.js'

const dir = mkdtempSync(join(tmpdir(), 'atproto-wal-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const journalMode = (file: string) => {
  const db = new Database(file, { readonly: true })
  try {
    return db.pragma('journal_mode', { simple: true })
  } finally {
    db.close()
  }
}

describe('SQLite journal mode', () => {
  it('is WAL after migrate and check, and commits still land', async () => {
    const file = join(dir, 'wal.db')
    const client = sqliteClient(`file:${file}`)
    const adapter = prismaAdapter(client, { provider: 'sqlite', sqliteWal: true })
    try {
      await adapter.migrate()
      await adapter.check()
      expect(journalMode(file)).toBe('wal')
      await adapter.accounts.create({
        did: 'did:plc:waltest00000000000000000',
        handle: 'wal.test',
        email: null,
        passwordHash: null,
        signingKey: new Uint8Array(32).fill(1),
        status: 'active',
      })
      expect((await adapter.accounts.getByHandle('wal.test'))?.did).toBe('did:plc:waltest00000000000000000')
    } finally {
      await adapter.close()
    }
  })

  it('is left alone by default', async () => {
    const file = join(dir, 'keep.db')
    const adapter = prismaAdapter(sqliteClient(`file:${file}`), { provider: 'sqlite' })
    try {
      await adapter.migrate()
      await adapter.check()
      expect(journalMode(file)).toBe('delete')
    } finally {
      await adapter.close()
    }
  })
})
