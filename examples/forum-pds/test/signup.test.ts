// The sign-up route module itself (app/api/signup/route.ts), called in-process against the forum's
// SQLite database: the forum's User rows and the PDS's host-user links must agree, and refusals and
// failures leave no row behind. (mounts.test.ts runs the same suite over HTTP on the built app.)
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Forum } from '../lib/atproto.js'
import { signupSuite } from './signup-suite.js'

const dataDir = mkdtempSync(join(tmpdir(), 'forum-signup-'))
const publicUrl = 'http://forum.test'
let forum: Forum
let POST: (request: Request) => Promise<Response>

beforeAll(async () => {
  // The route uses the process's forum singleton: point it at a scratch data folder first.
  process.env.DATA_DIR = dataDir
  process.env.PUBLIC_URL = publicUrl
  ;({ forum } = await import('../lib/atproto.js'))
  ;({ POST } = await import('../app/api/signup/route.js'))
  await forum.atproto.start()
  const realFetch = globalThis.fetch
  // @atproto/api reaches the forum in-process (the route runs without Next here).
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init)
    return request.url.startsWith(publicUrl) ? forum.atproto.fetch(request) : realFetch(request)
  }) as typeof fetch
})

afterAll(async () => {
  await forum?.atproto.close()
  await forum?.prisma.$disconnect()
  rmSync(dataDir, { recursive: true, force: true })
})

const post = (path: string, body: unknown) =>
  POST(
    new Request(`${publicUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  )

describe('forum sign-up (route module, SQLite)', () => {
  signupSuite(() => publicUrl, post)

  it('links each forum user to exactly one atproto account, and refusals add no rows', async () => {
    const res = await post('/api/signup', { username: 'linked-member', password: 'forum-pass-1' })
    const { userId, did } = (await res.json()) as { userId: string; did: string }
    const user = await forum.prisma.user.findUniqueOrThrow({ where: { id: userId } })
    expect(user.username).toBe('linked-member')
    expect(user.passwordHash).not.toContain('forum-pass-1')
    expect(await forum.pds.host.getAccount({ userId })).toMatchObject({ did, handle: 'linked-member.test' })

    const users = await forum.prisma.user.count()
    const accounts = (await forum.pds.context.storage.accounts.list({ limit: 1000 })).length
    for (const body of [
      { username: 'admin', password: 'forum-pass-1' },
      { username: 'linked-member', password: 'forum-pass-1' },
      { username: 'no', password: 'forum-pass-1' },
    ]) {
      expect((await post('/api/signup', body)).status).toBeGreaterThanOrEqual(400)
    }
    expect(await forum.prisma.user.count()).toBe(users)
    expect((await forum.pds.context.storage.accounts.list({ limit: 1000 })).length).toBe(accounts)
    expect((await post('/api/signup', '{"broken json')).status).toBe(400)
  })
})
