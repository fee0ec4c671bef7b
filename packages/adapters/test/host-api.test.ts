// The PDS host API (account creation for host users, writes on their behalf, status) on SQLite through
// Prisma: the suite of packages/core/src/pds/test-host-api-suite.ts.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe } from 'vitest'
import { hostApiSuite } from '../../core/src/pds/test-host-api-suite.js'
import { prismaAdapter } from '../src/index.js'
import { sqliteClient } from './clients.js'

const dir = mkdtempSync(join(tmpdir(), 'atproto-host-api-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('host API (prisma sqlite)', () =>
  hostApiSuite(async () => {
    const adapter = prismaAdapter(sqliteClient(`file:${join(dir, 'host.db')}`), { provider: 'sqlite' })
    await adapter.migrate()
    return adapter
  }))
