/**
 * The blog AppView signs a user of our PDS in with OAuth in a real browser (Debian's Chromium, headless,
 * through playwright-core): handle → the PDS's sign-in and consent pages → callback; writes a post
 * (a DPoP-bound createRecord, checked on the PDS), the session refreshes (short access tokens), and
 * signing out revokes the tokens at the authorization server.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type BrowserContext, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPds, type TestPds } from './pds.js'
import { buildBlog, type RunningBlog, startBlog } from './start-blog.js'

const POST = 'dev.nextatproto.blog.post'
// The blog's own SQLite database, read directly to see its side of the session.
const Database = createRequire(import.meta.url)('better-sqlite3') as new (
  file: string,
  opts: { readonly: boolean },
) => { prepare(sql: string): { all(): unknown[] }; close(): void }
// Access tokens live 65 s and the client refreshes when less than 60 s are left: any request made
// more than 5 s after sign-in refreshes first.
const ACCESS_TOKEN_SECONDS = 65

describe('blog-appview: OAuth sign-in in the browser against our PDS', () => {
  let pds: TestPds
  let blog: RunningBlog
  let context: BrowserContext
  let profile: string
  const user = { handle: 'alice.test', password: 'alice-password-1', did: '' }

  beforeAll(async () => {
    buildBlog()
    pds = await startPds({ accessTokenSeconds: ACCESS_TOKEN_SECONDS })
    const created = await fetch(`${pds.url}/xrpc/com.atproto.server.createAccount`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ handle: user.handle, password: user.password, email: 'alice@mail.test' }),
    })
    user.did = ((await created.json()) as { did: string }).did
    blog = await startBlog({
      OAUTH_ALLOW_LOOPBACK: '1',
      PLC_URL: `${pds.url}/plc`,
      HANDLE_RESOLVER_URL: pds.url,
    })
    profile = mkdtempSync(join(tmpdir(), 'blog-chromium-'))
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    })
  }, 300_000)

  afterAll(async () => {
    await context?.close()
    await blog?.stop()
    await pds?.close()
    if (profile) rmSync(profile, { recursive: true, force: true })
  })

  const blogSessions = () => {
    const db = new Database(join(blog.dataDir, 'blog.db'), { readonly: true })
    try {
      return db.prepare('SELECT did, version FROM atproto_oauth_client_session').all() as Array<{
        did: string
        version: number
      }>
    } finally {
      db.close()
    }
  }

  it('signs in, writes a post to the user’s repo, refreshes, and signs out', async () => {
    const page = context.pages()[0] ?? (await context.newPage())
    await page.goto(`${blog.url}/signin`)
    await page.fill('#identifier', user.handle)
    await page.click('#continue')

    // The PDS's authorization page: sign in (login_hint pre-fills the handle), then consent.
    await page.waitForURL((u) => u.origin === pds.url && u.pathname === '/oauth/authorize')
    expect(await page.inputValue('#identifier')).toBe(user.handle)
    await page.fill('#password', user.password)
    await page.click('button[value="sign-in"]')
    await page.waitForSelector('button[value="consent"]').catch(async (e) => {
      // Show what the server answered instead (an error page) rather than only a timeout.
      const text = await page.textContent('main').catch(() => null)
      throw new Error(`no consent page at ${page.url()}: ${text}`, { cause: e })
    })
    expect(await page.content()).toContain('dev.nextatproto.blog.post')
    await page.click('button[value="consent"]')

    // Back on the blog, signed in, on the write page (the sign-in form's `next`).
    await page.waitForURL(`${blog.url}/write`)
    expect(await page.textContent('#signed-in-as')).toBe(user.did)
    const [asSession] = pds.oauthStore.listSessions(user.did)
    expect(asSession!.scope).toBe('atproto repo:dev.nextatproto.blog.post')
    const firstRefreshHash = asSession!.refreshTokenHash
    const signedInAt = Date.now()
    const [stored] = blogSessions()
    expect(stored!.did).toBe(user.did)

    await page.fill('#title', 'Hello from the browser')
    await page.fill('#body', 'Written with **DPoP** through OAuth.')
    await page.fill('#tags', 'atproto, oauth')
    await page.click('#publish')
    await page.waitForURL(`${blog.url}/`)
    expect(await page.textContent('#posts')).toContain('Hello from the browser')

    // The record is in the user's repo on the PDS.
    const list = await fetch(
      `${pds.url}/xrpc/com.atproto.repo.listRecords?repo=${user.did}&collection=${POST}`,
    ).then((r) => r.json() as Promise<{ records: Array<{ uri: string; value: Record<string, unknown> }> }>)
    expect(list.records).toHaveLength(1)
    expect(list.records[0]!.value).toMatchObject({
      $type: POST,
      title: 'Hello from the browser',
      body: 'Written with **DPoP** through OAuth.',
      slug: 'hello-from-the-browser',
      tags: ['atproto', 'oauth'],
    })

    // Past the refresh margin, the next page load refreshes the session (refresh_token grant, rotated).
    const wait = signedInAt + (ACCESS_TOKEN_SECONDS - 60) * 1000 + 1500 - Date.now()
    if (wait > 0) await page.waitForTimeout(wait)
    await page.reload()
    expect(await page.textContent('#posts')).toContain('Hello from the browser')
    expect(
      pds.oauthLog.some(
        (l) => l.path === '/oauth/token' && l.grantType === 'refresh_token' && l.status === 200,
      ),
    ).toBe(true)
    const refreshed = pds.oauthStore.getSession(asSession!.id)!
    expect(refreshed.refreshTokenHash).not.toBe(firstRefreshHash)
    expect(refreshed.revokedAt).toBeUndefined()
    // The blog stored the rotated tokens (its session's version counts refreshes).
    expect(blogSessions()).toEqual([{ did: user.did, version: expect.any(Number) }])
    expect(blogSessions()[0]!.version).toBeGreaterThan(stored!.version)
    // No refresh token was spent twice (the server revokes the session on reuse).
    expect(
      pds.oauthLog.filter((l) => l.path === '/oauth/token' && l.status !== 200 && l.status !== 400),
    ).toEqual([])

    // Sign out: the session is revoked at the authorization server and the blog forgets it.
    await page.click('#sign-out')
    await page.waitForURL(`${blog.url}/`)
    await page.waitForSelector('a[href="/signin"]')
    expect(pds.oauthStore.getSession(asSession!.id)!.revokedAt).toBeTypeOf('number')
    expect(pds.oauthLog.some((l) => l.path === '/oauth/revoke' && l.status === 200)).toBe(true)
    expect((await context.cookies(blog.url)).some((c) => c.name === 'atproto-session')).toBe(false)
    expect(blogSessions()).toEqual([])
  }, 180_000)
})
