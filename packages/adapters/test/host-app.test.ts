/**
 * A host app's journey with the Prisma adapter, end to end and offline: an existing app (User/Post in
 * test/host-app/prisma/schema.prisma) runs `next-atproto-prisma sync`, generates its client and migrates
 * with the stock Prisma CLI (through the schema-engine shim), then writes its own rows and our atproto rows
 * with ONE client in ONE database. Runs in a scratch copy so the committed sample stays a template.
 */
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import {
  BlockMap,
  cidForBytes,
  encodeCbor,
  StorageNotMigratedError,
  StorageUnavailableError,
} from '@next-atproto/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { prismaAdapter } from '../src/prisma/index.js'

const run = promisify(execFile)
const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '../../..')
const cli = path.resolve(here, '../bin/next-atproto-prisma.mjs')
const prismaCli = path.join(root, 'node_modules/prisma/build/index.js')
const scratch = path.join(here, 'generated', `host-app-${randomBytes(4).toString('hex')}`)
const dbFile = path.join(scratch, 'app.db')

const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex')
const node = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, args, { cwd: scratch, env: { ...process.env, ...env, CHECKPOINT_DISABLE: '1' } })

// The generated client is the app's own type: the test reaches it only structurally, like the adapter.
type AnyClient = any
let client: AnyClient
let newClient: (url: string) => AnyClient

beforeAll(async () => {
  fs.mkdirSync(path.join(scratch, 'prisma'), { recursive: true })
  fs.copyFileSync(
    path.join(here, 'host-app/prisma/schema.prisma'),
    path.join(scratch, 'prisma/schema.prisma'),
  )
  const config = fs
    .readFileSync(path.join(here, 'host-app/prisma.config.ts'), 'utf8')
    .replace('../../scripts/offline-engine.mjs', path.resolve(here, '../scripts/offline-engine.mjs'))
  fs.writeFileSync(path.join(scratch, 'prisma.config.ts'), config)
}, 60_000)

afterAll(async () => {
  await client?.$disconnect()
  fs.rmSync(scratch, { recursive: true, force: true })
})

describe('host app with its own schema', () => {
  it('sync copies the fragments beside the app schema and never edits schema.prisma', async () => {
    const before = sha(path.join(scratch, 'prisma/schema.prisma'))
    const { stdout } = await node([cli, 'sync'])
    expect(stdout).toMatch(/wrote atproto/)
    expect(sha(path.join(scratch, 'prisma/schema.prisma'))).toBe(before)
    const copies = fs.readdirSync(path.join(scratch, 'prisma/atproto'))
    expect(copies.length).toBeGreaterThan(0)
    // A second sync is a no-op and check agrees.
    expect((await node([cli, 'sync'])).stdout).toMatch(/up to date/)
    expect((await node([cli, 'check'])).stdout).toMatch(/up to date/)
  })

  it('check exits non-zero with the fixing command when a copy drifted', async () => {
    const copy = path.join(
      scratch,
      'prisma/atproto',
      fs.readdirSync(path.join(scratch, 'prisma/atproto'))[0]!,
    )
    const original = fs.readFileSync(copy, 'utf8')
    fs.writeFileSync(copy, original.replace('model Atproto', 'model AtprotoEdited'))
    const err = await node([cli, 'check']).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    )
    expect(err?.code).toBe(1)
    expect(err?.stderr).toMatch(/outdated .*\n.*run: npx next-atproto-prisma sync/)
    await node([cli, 'sync'])
    expect((await node([cli, 'check'])).stdout).toMatch(/up to date/)
  })

  it('generates one client with the app models and ours, offline', async () => {
    await node([prismaCli, 'generate'])
    const mod = await import(path.join(scratch, 'generated/prisma/client.ts'))
    const { PrismaBetterSqlite3 } = await import('@prisma/adapter-better-sqlite3')
    newClient = (url) => new mod.PrismaClient({ adapter: new PrismaBetterSqlite3({ url }) })
    client = newClient(`file:${dbFile}`)
    expect(typeof client.user.create).toBe('function')
    expect(typeof client.atprotoAccount.create).toBe('function')
  }, 60_000)

  it('check() names the unmigrated database and the command that fixes it', async () => {
    const storage = prismaAdapter(client, { provider: 'sqlite', migrations: 'app' })
    await expect(storage.check()).rejects.toThrow(StorageNotMigratedError)
    await expect(storage.check()).rejects.toThrow(/prisma migrate/)
  })

  it('migrates with the stock CLI (migrate dev through the shim) and check() passes', async () => {
    const { stdout } = await node([prismaCli, 'migrate', 'dev', '--name', 'init'], {
      DATABASE_URL: `file:${dbFile}`,
    })
    expect(stdout).toMatch(/in sync with your schema|applied/i)
    const sql = fs.readFileSync(
      path.join(
        scratch,
        'prisma/migrations',
        fs.readdirSync(path.join(scratch, 'prisma/migrations')).find((d) => d.endsWith('_init'))!,
        'migration.sql',
      ),
      'utf8',
    )
    // The app's tables and ours in one migration, one database.
    expect(sql).toMatch(/CREATE TABLE "User"/)
    expect(sql).toMatch(/CREATE TABLE "atproto_repo_block"/)
    await prismaAdapter(client, { provider: 'sqlite', migrations: 'app' }).check()
  }, 60_000)

  it('writes User/Post and atproto rows with one client in one database', async () => {
    const storage = prismaAdapter(client, { provider: 'sqlite', migrations: 'app' })
    const did = 'did:plc:hostapptest0000000000000'
    await storage.accounts.create({
      did,
      handle: 'alice.forum.test',
      email: 'alice@example.com',
      passwordHash: null,
      signingKey: new Uint8Array(32).fill(7),
      status: 'active',
    })
    const user = await client.user.create({
      data: {
        email: 'alice@example.com',
        name: 'Alice',
        did,
        posts: { create: [{ title: 'Hi', body: 'first' }] },
      },
      include: { posts: true },
    })
    expect(user.posts).toHaveLength(1)

    const record = encodeCbor({ $type: 'app.example.post', text: 'hello' })
    const cid = cidForBytes(record)
    await storage.repo.transact(did, async (tx) => {
      await tx.putBlocks(new BlockMap().set(cid, record), 'rev1')
      await tx.putRecord({ collection: 'app.example.post', rkey: 'r1', cid, repoRev: 'rev1' })
      await tx.updateRoot(cid, 'rev1')
      await tx.sequence([{ did, type: 'commit', body: record }])
    })

    // The app joins its own rows to ours by value, through the same client.
    const joined = await client.user.findUnique({ where: { did } })
    const account = await client.atprotoAccount.findUnique({ where: { did } })
    expect(joined.email).toBe(account.email)
    expect(await storage.repo.read(did, (r) => r.getRecord('app.example.post', 'r1'))).toMatchObject({
      repoRev: 'rev1',
    })
    const events = await storage.sequencer.range({ limit: 10 })
    expect(events.map((e) => e.did)).toEqual([did])

    // One database file holds both: the app can use one transaction across its rows and ours.
    await expect(
      client.$transaction(async (tx: AnyClient) => {
        await tx.user.create({ data: { email: 'bob@example.com' } })
        await tx.atprotoAppPassword.create({
          data: { did, name: 'phone', passwordHash: 'x', privileged: false },
        })
        throw new Error('roll back both')
      }),
    ).rejects.toThrow('roll back both')
    expect(await client.user.count()).toBe(1)
    expect(await storage.accounts.listAppPasswords(did)).toEqual([])
  })

  it('the stock CLI still migrates the file while the app holds it open (no WAL by default)', async () => {
    // The usual loop: the dev server runs, the developer adds a model and runs `prisma migrate dev`.
    const schema = path.join(scratch, 'prisma/schema.prisma')
    fs.appendFileSync(
      schema,
      '\nmodel Tag {\n  id   Int    @id @default(autoincrement())\n  name String\n}\n',
    )
    const { stdout } = await node([prismaCli, 'migrate', 'dev', '--name', 'tags'], {
      DATABASE_URL: `file:${dbFile}`,
    })
    expect(stdout).toMatch(/applied|in sync/i)
    const storage = prismaAdapter(client, { provider: 'sqlite', migrations: 'app' })
    await storage.check()
    expect(await storage.accounts.getByHandle('alice.forum.test')).toMatchObject({
      handle: 'alice.forum.test',
    })
  }, 60_000)

  it('check() on a database that cannot be opened names the problem', async () => {
    const broken = newClient(`file:${path.join(scratch, 'missing-dir', 'nested', 'x.db')}`)
    try {
      const err = await prismaAdapter(broken, { provider: 'sqlite' })
        .check()
        .catch((e: unknown) => e)
      expect(err).toBeInstanceOf(StorageUnavailableError)
      expect((err as Error).message).toMatch(/sqlite database cannot be reached/)
    } finally {
      await broken.$disconnect().catch(() => {})
    }
  })
})
