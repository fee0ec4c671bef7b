// com.atproto.repo.importRepo on SQLite through Prisma (atomic swap of blocks, records and root inside
// one transaction): the suite of packages/core/src/pds/test-import-suite.ts.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe } from 'vitest'
import { importRepoSuite } from '../../core/src/pds/test-import-suite.js'
import { prismaAdapter } from '../src/index.js'
import { sqliteClient } from './clients.js'

const dir = mkdtempSync(join(tmpdir(), 'atproto-import-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('importRepo (prisma sqlite)', () =>
  importRepoSuite(async () => {
    const adapter = prismaAdapter(sqliteClient(`file:${join(dir, 'import.db')}`), { provider: 'sqlite' })
    await adapter.migrate()
    return adapter
  }))
