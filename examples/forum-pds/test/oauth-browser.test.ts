/**
 * OAuth end to end, the way a third-party app meets the forum: @atproto/oauth-client-node resolves the
 * member's handle through the forum (PLC directory under /plc), pushes the request, a headless Chromium
 * signs in and consents on the forum's pages, then the app writes records through @atproto/api's Agent
 * with the DPoP-bound session, refreshes, and signs out (the tokens then stop working). Against the
 * built Next.js app and the Express twin. Also: `prompt=create` sign-up, and a forum member signed in
 * with the forum's own cookie who only sees the consent step.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, AtpAgent } from '@atproto/api'
import {
  NodeOAuthClient,
  type NodeSavedSession,
  type NodeSavedState,
  type OAuthSession,
  requestLocalLock,
} from '@atproto/oauth-client-node'
import { calculateJwkThumbprint, importJWK, type JWK, SignJWT } from 'jose'
import { type BrowserContext, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startExpressTwin } from './express-twin.js'
import { buildApp, type RunningApp, startApp } from './start-app.js'

const SCOPE = 'atproto transition:generic'
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

// Pages may take a while on a loaded machine.
const poll = <T>(fn: () => Promise<T>) => expect.poll(fn, { timeout: 20_000, interval: 100 })
const TEST_TIMEOUT = 120_000

const randomName = () => `o${Math.random().toString(36).slice(2, 10)}`

/** Headless Chromium from Debian's package, with a fresh profile. */
async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'forum-chromium-'))
  // Playwright takes the profile folder as an argument (it owns --user-data-dir).
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_FLAGS,
  })
  return {
    context,
    async close() {
      await context.close()
      rmSync(userDataDir, { recursive: true, force: true })
    },
  }
}

/** The third-party app's redirect target: a loopback server that only records where it was sent. */
async function callbackServer(): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>signed in</h1>')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`, server }
}

function memoryStore<T>() {
  const m = new Map<string, T>()
  return {
    map: m,
    get: async (k: string) => m.get(k),
    set: async (k: string, v: T) => void m.set(k, v),
    del: async (k: string) => void m.delete(k),
  }
}

/** A loopback development client (no metadata document to host), resolving identities via the forum. */
function oauthClient(appUrl: string, redirectUri: string, scope = SCOPE) {
  const sessions = memoryStore<NodeSavedSession>()
  const client = new NodeOAuthClient({
    clientMetadata: {
      client_id: `http://localhost?redirect_uri=${encodeURIComponent(redirectUri)}&scope=${encodeURIComponent(scope)}`,
      redirect_uris: [redirectUri],
      scope,
      response_types: ['code'],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
      dpop_bound_access_tokens: true,
    },
    stateStore: memoryStore<NodeSavedState>(),
    sessionStore: sessions,
    handleResolver: appUrl,
    // DIDs resolve through the forum's development PLC directory (served under /plc).
    didResolver: {
      resolve: async (did: string) => (await fetch(`${appUrl}/plc/${encodeURIComponent(did)}`)).json(),
    } as never,
    allowHttp: true,
    requestLock: requestLocalLock,
  })
  return { client, sessions: sessions.map }
}

/** Open the authorize URL; `steps` drives the forum's pages; returns the callback's query. */
async function inBrowser(page: Page, authorizeUrl: URL, steps: () => Promise<void>) {
  await page.goto(authorizeUrl.href)
  await steps()
  await page.waitForURL(/\/callback\?/, { timeout: 20_000 })
  return new URL(page.url()).searchParams
}

async function signIn(page: Page, identifier: string, password: string) {
  await page.locator('#identifier').fill(identifier)
  await page.locator('#password').fill(password)
  await page.locator('button[value="sign-in"]').click()
}

async function consent(page: Page, handle: string) {
  await poll(
    async () => `${await page.locator('h1').textContent()}: ${await page.locator('main').textContent()}`,
  ).toMatch(/^Authorize this app\?:/)
  expect(await page.locator('main').textContent()).toContain(`@${handle}`)
  await page.locator('button[value="consent"]').click()
}

/** A DPoP-proved request with raw tokens (after sign-out the client library would refuse to send it). */
async function dpopFetch(
  saved: NodeSavedSession,
  url: string,
  init: { method: string; body?: URLSearchParams },
) {
  const jwk = saved.dpopJwk as JWK
  const { d: _d, ...pub } = jwk
  const key = await importJWK(jwk, 'ES256')
  const ath = saved.tokenSet.access_token
    ? Buffer.from(
        await crypto.subtle.digest('SHA-256', new TextEncoder().encode(saved.tokenSet.access_token)),
      )
    : undefined
  let nonce: string | undefined
  for (let attempt = 0; ; attempt++) {
    const proof = await new SignJWT({
      htm: init.method,
      htu: url,
      iat: Math.floor(Date.now() / 1000),
      jti: crypto.randomUUID(),
      ...(nonce ? { nonce } : {}),
      ...(ath && !init.body ? { ath: ath.toString('base64url') } : {}),
    })
      .setProtectedHeader({
        alg: 'ES256',
        typ: 'dpop+jwt',
        jwk: { kty: pub.kty, crv: pub.crv, x: pub.x, y: pub.y },
      })
      .sign(key)
    const headers: Record<string, string> = { dpop: proof }
    if (init.body) headers['content-type'] = 'application/x-www-form-urlencoded'
    else headers.authorization = `DPoP ${saved.tokenSet.access_token}`
    const res = await fetch(url, { method: init.method, headers, body: init.body })
    const text = await res.text()
    const retry = res.headers.get('dpop-nonce')
    const wantsNonce =
      text.includes('use_dpop_nonce') || res.headers.get('www-authenticate')?.includes('use_dpop_nonce')
    if (wantsNonce && retry && attempt === 0) {
      nonce = retry
      continue
    }
    return {
      status: res.status,
      body: text ? JSON.parse(text) : null,
      jkt: await calculateJwkThumbprint(pub),
    }
  }
}

async function writePost(session: OAuthSession, text: string) {
  const agent = new Agent(session)
  const res = await agent.com.atproto.repo.createRecord({
    repo: session.did,
    collection: 'app.bsky.feed.post',
    record: { $type: 'app.bsky.feed.post', text, createdAt: new Date().toISOString() },
  })
  return res.data
}

function oauthBrowserSuite(appUrl: () => string) {
  let browser: Awaited<ReturnType<typeof launchBrowser>>
  let callback: Awaited<ReturnType<typeof callbackServer>>
  beforeAll(async () => {
    browser = await launchBrowser()
    callback = await callbackServer()
  })
  afterAll(async () => {
    await browser?.close()
    callback?.server.close()
  })

  const newAccount = async () => {
    const handle = `${randomName()}.test`
    const password = `pw-${randomName()}`
    const res = await new AtpAgent({ service: appUrl() }).createAccount({
      handle,
      password,
      email: `${handle}@example.com`,
    })
    return { handle, password, did: res.data.did }
  }

  it(
    'signs in and consents in Chromium, writes with DPoP, refreshes, and revokes',
    async () => {
      const alice = await newAccount()
      const { client, sessions } = oauthClient(appUrl(), callback.url)
      const authorizeUrl = await client.authorize(alice.handle, { scope: SCOPE })
      expect(authorizeUrl.origin).toBe(new URL(appUrl()).origin)
      expect(authorizeUrl.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/)

      await browser.context.clearCookies()
      const page = await browser.context.newPage()
      const params = await inBrowser(page, authorizeUrl, async () => {
        await poll(() => page.locator('h1').textContent()).toBe('Sign in')
        await signIn(page, alice.handle, 'not the password')
        await poll(() => page.locator('[role=alert]').textContent()).toMatch(/Wrong handle or password/)
        await signIn(page, alice.handle, alice.password)
        await consent(page, alice.handle)
      })
      await page.close()
      expect(params.get('iss')).toBe(new URL(appUrl()).origin)

      const { session } = await client.callback(params)
      expect(session.did).toBe(alice.did)
      expect((await session.getTokenInfo(false)).scope).toBe(SCOPE)

      // Authenticated writes through @atproto/api with the OAuth session (DPoP-bound access token).
      const first = await writePost(session, 'hello over OAuth')
      expect(first.uri).toMatch(new RegExp(`^at://${alice.did}/app.bsky.feed.post/`))
      const read = await new AtpAgent({ service: appUrl() }).com.atproto.repo.getRecord({
        repo: alice.did,
        collection: 'app.bsky.feed.post',
        rkey: first.uri.split('/').pop()!,
      })
      expect((read.data.value as { text: string }).text).toBe('hello over OAuth')
      // The same PDS still takes legacy session JWTs.
      const legacy = new AtpAgent({ service: appUrl() })
      await legacy.login({ identifier: alice.handle, password: alice.password })
      expect((await legacy.com.atproto.server.getSession()).data.did).toBe(alice.did)

      // Refresh: new tokens (rotated refresh token), and writes go on with them.
      const before = structuredClone(sessions.get(alice.did)!)
      const refreshed = await client.restore(alice.did, true)
      const after = sessions.get(alice.did)!
      expect(after.tokenSet.access_token).not.toBe(before.tokenSet.access_token)
      expect(after.tokenSet.refresh_token).not.toBe(before.tokenSet.refresh_token)
      const second = await writePost(refreshed, 'after refresh')
      expect(second.uri).not.toBe(first.uri)
      const stillValid = await dpopFetch(after, `${appUrl()}/xrpc/com.atproto.server.getSession`, {
        method: 'GET',
      })
      expect(stillValid.status).toBe(200)
      expect(stillValid.body.did).toBe(alice.did)

      // Revoke (sign out): the access and refresh tokens stop working at once.
      await refreshed.signOut()
      expect(sessions.has(alice.did)).toBe(false)
      const denied = await dpopFetch(after, `${appUrl()}/xrpc/com.atproto.server.getSession`, {
        method: 'GET',
      })
      expect(denied.status).toBe(401)
      expect(denied.body.message).toMatch(/revoked/i)
      const refreshAfter = await dpopFetch(after, `${appUrl()}/oauth/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: after.tokenSet.refresh_token!,
          client_id: client.clientMetadata.client_id,
        }),
      })
      expect(refreshAfter.status).toBe(400)
      expect(refreshAfter.body.error).toBe('invalid_grant')
      expect(refreshAfter.body.access_token).toBeUndefined()
    },
    TEST_TIMEOUT,
  )

  it(
    'a forum member signed in with the forum cookie only sees consent',
    async () => {
      const bob = await newAccount()
      await browser.context.clearCookies()
      const page = await browser.context.newPage()
      // The forum's own login page sets its session cookie.
      await page.goto(`${appUrl()}/forum/login?return_to=/`)
      await page.locator('input[name=identifier]').fill(bob.handle)
      await page.locator('input[name=password]').fill(bob.password)
      await page.locator('button[type=submit]').click()
      await page.waitForURL((u) => u.pathname === '/')
      expect((await browser.context.cookies()).map((c) => c.name)).toContain('forum-session')

      const { client } = oauthClient(appUrl(), callback.url)
      const authorizeUrl = await client.authorize(bob.handle, { scope: SCOPE })
      const params = await inBrowser(page, authorizeUrl, async () => {
        // No sign-in step: the page opens on consent for the forum member.
        await poll(() => page.locator('h1').textContent()).toBe('Authorize this app?')
        expect(await page.locator('#password').count()).toBe(0)
        await consent(page, bob.handle)
      })
      await page.close()
      const { session } = await client.callback(params)
      expect(session.did).toBe(bob.did)
      expect((await writePost(session, 'managed account')).uri).toContain(bob.did)
      await session.signOut()
    },
    TEST_TIMEOUT,
  )

  it(
    'deny sends access_denied back to the app, and no session comes of it',
    async () => {
      const dave = await newAccount()
      const { client, sessions } = oauthClient(appUrl(), callback.url)
      const authorizeUrl = await client.authorize(dave.handle, { scope: SCOPE })
      await browser.context.clearCookies()
      const page = await browser.context.newPage()
      const params = await inBrowser(page, authorizeUrl, async () => {
        await signIn(page, dave.handle, dave.password)
        await poll(() => page.locator('h1').textContent()).toBe('Authorize this app?')
        await page.locator('button[value="deny"]').click()
      })
      await page.close()
      expect(params.get('error')).toBe('access_denied')
      expect(params.get('code')).toBeNull()
      await expect(client.callback(params)).rejects.toThrow(/access_denied|denied/)
      expect(sessions.size).toBe(0)
    },
    TEST_TIMEOUT,
  )

  it(
    'granular scopes: writes outside the grant are refused by the PDS',
    async () => {
      const carol = await newAccount()
      // Something to like, written with a legacy session.
      const legacy = new AtpAgent({ service: appUrl() })
      await legacy.login({ identifier: carol.handle, password: carol.password })
      const post = await legacy.com.atproto.repo.createRecord({
        repo: carol.did,
        collection: 'app.bsky.feed.post',
        record: { $type: 'app.bsky.feed.post', text: 'likeable', createdAt: new Date().toISOString() },
      })
      const scope = 'atproto repo:app.bsky.feed.like?action=create'
      const { client } = oauthClient(appUrl(), callback.url, scope)
      const authorizeUrl = await client.authorize(carol.handle, { scope })
      await browser.context.clearCookies()
      const page = await browser.context.newPage()
      const params = await inBrowser(page, authorizeUrl, async () => {
        await signIn(page, carol.handle, carol.password)
        await poll(() => page.locator('main li').allTextContents()).toContain(
          'create app.bsky.feed.like records',
        )
        await consent(page, carol.handle)
      })
      await page.close()
      const { session } = await client.callback(params)
      expect((await session.getTokenInfo(false)).scope).toBe(scope)
      const agent = new Agent(session)
      const like = await agent.com.atproto.repo.createRecord({
        repo: carol.did,
        collection: 'app.bsky.feed.like',
        record: {
          $type: 'app.bsky.feed.like',
          subject: { uri: post.data.uri, cid: post.data.cid },
          createdAt: new Date().toISOString(),
        },
      })
      expect(like.data.uri).toContain('app.bsky.feed.like')
      const posts = async () =>
        (await legacy.com.atproto.repo.listRecords({ repo: carol.did, collection: 'app.bsky.feed.post' }))
          .data.records.length
      const before = await posts()
      await expect(writePost(session, 'not granted')).rejects.toMatchObject({
        status: 403,
        error: 'InsufficientScope',
      })
      await expect(
        agent.com.atproto.repo.deleteRecord({
          repo: carol.did,
          collection: 'app.bsky.feed.like',
          rkey: like.data.uri.split('/').pop()!,
        }),
      ).rejects.toMatchObject({ status: 403, error: 'InsufficientScope' })
      expect(await posts()).toBe(before)
      await session.signOut()
    },
    TEST_TIMEOUT,
  )

  it(
    'prompt=create signs a new member up, then consents',
    async () => {
      const name = randomName()
      const { client } = oauthClient(appUrl(), callback.url)
      // No handle yet: the app starts from the server's URL.
      const authorizeUrl = await client.authorize(appUrl(), { scope: SCOPE, prompt: 'create' })
      await browser.context.clearCookies()
      const page = await browser.context.newPage()
      const params = await inBrowser(page, authorizeUrl, async () => {
        await poll(() => page.locator('h1').textContent()).toBe('Create an account')
        await page.locator('#handle').fill(name)
        await page.locator('#email').fill(`${name}@example.com`)
        await page.locator('#password').fill('a long enough password')
        await page.locator('button[value="sign-up"]').click()
        await consent(page, `${name}.test`)
      })
      await page.close()
      const { session } = await client.callback(params)
      const resolved = await new AtpAgent({ service: appUrl() }).com.atproto.identity.resolveHandle({
        handle: `${name}.test`,
      })
      expect(session.did).toBe(resolved.data.did)
      expect((await writePost(session, 'first post')).uri).toContain(session.did)
      await session.signOut()
    },
    TEST_TIMEOUT,
  )
}

describe('OAuth in the browser: forum-pds on Next.js (next build + custom server)', () => {
  let app: RunningApp
  beforeAll(async () => {
    buildApp()
    app = await startApp()
  }, 240_000)
  afterAll(() => app?.stop())
  oauthBrowserSuite(() => app.url)
})

describe('OAuth in the browser: forum-pds on Express', () => {
  let app: RunningApp
  beforeAll(async () => {
    app = await startExpressTwin()
  })
  afterAll(() => app?.stop())
  oauthBrowserSuite(() => app.url)
})
