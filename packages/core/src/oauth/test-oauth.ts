/**
 * Test harness for the OAuth tests (not built, not exported): a loopback app with the authorization
 * server and a protected XRPC method, an in-memory account provider, a scripted "browser" for the
 * authorize page, and a hand-rolled DPoP client for negative cases.
 */
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import { createAtproto } from '../atproto.js'
import { toNodeHandler } from '../node/to-node-handler.js'
import { hashPassword, verifyPassword } from '../pds/password.js'
import type { OAuthAccount, OAuthAccountProvider } from './accounts.js'
import { type OAuthServerOptions, oauthServer } from './authorization-server.js'
import { MemoryOAuthStore } from './store.js'

export const ALICE = {
  sub: 'did:plc:aliceaaaaaaaaaaaaaaaaaaa',
  handle: 'alice.test',
  password: 'correct horse',
}

/** Accounts in memory; `signedInCookie` simulates the host app's own session for managed accounts. */
export class TestAccounts implements OAuthAccountProvider {
  private readonly users = new Map<string, { account: OAuthAccount; hash: string }>()
  static async create(): Promise<TestAccounts> {
    const a = new TestAccounts()
    a.users.set(ALICE.sub, {
      account: { sub: ALICE.sub, handle: ALICE.handle },
      hash: await hashPassword(ALICE.password),
    })
    return a
  }
  async authenticate(identifier: string, password: string): Promise<OAuthAccount | null> {
    for (const u of this.users.values()) {
      if (u.account.handle === identifier || u.account.sub === identifier) {
        return (await verifyPassword(password, u.hash)) ? u.account : null
      }
    }
    return null
  }
  async getAccount(sub: string): Promise<OAuthAccount | null> {
    return this.users.get(sub)?.account ?? null
  }
  async currentUser(request: Request): Promise<OAuthAccount | null> {
    const m = /(?:^|;\s*)host-session=([^;]+)/.exec(request.headers.get('cookie') ?? '')
    return m ? (this.users.get(decodeURIComponent(m[1]!))?.account ?? null) : null
  }
  /** Set by tests of the host app's own sign-in page. */
  signInUrl?: (returnTo: string) => string | null
  async createAccount(input: { handle: string; password: string }): Promise<OAuthAccount> {
    if (!/^[a-z0-9-]+\.test$/.test(input.handle))
      throw Object.assign(new Error('bad handle'), { userMessage: 'Invalid handle' })
    const sub = `did:plc:${createHash('sha256')
      .update(input.handle)
      .digest('hex')
      .slice(0, 24)
      .replace(/[0189]/g, 'a')}`
    const account = { sub, handle: input.handle }
    this.users.set(sub, { account, hash: await hashPassword(input.password) })
    return account
  }
}

export interface TestApp {
  url: string
  store: MemoryOAuthStore
  accounts: TestAccounts
  oauth: ReturnType<typeof oauthServer>
  close(): Promise<void>
}

/** Start the app on 127.0.0.1 with the OAuth service and `com.example.whoami` behind DPoP auth. */
export async function startTestApp(options: Partial<OAuthServerOptions> = {}): Promise<TestApp> {
  let handler: http.RequestListener = (_req, res) => res.end()
  const server = http.createServer((req, res) => handler(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const store = new MemoryOAuthStore()
  const accounts = await TestAccounts.create()
  const oauth = oauthServer({ store, accounts, clientFetch: { allowLoopback: true }, ...options })
  const app = createAtproto({ publicUrl: url, services: [oauth] })
  app.xrpc.query('com.example.whoami', {
    auth: oauth.accessTokenVerifier(),
    handler: ({ auth }) => ({
      encoding: 'application/json',
      body: { did: auth.did, scope: auth.scopes.scopes.join(' '), clientId: auth.clientId },
    }),
  })
  handler = toNodeHandler(app) as http.RequestListener
  await app.ready
  return {
    url,
    store,
    accounts,
    oauth,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** Hidden form fields of a rendered authorize page. */
export function hiddenFields(html: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    out[m[1]!] = m[2]!.replace(/&#(\d+);/g, (_, c) => String.fromCharCode(Number(c)))
  }
  return out
}

/** A scripted browser: keeps cookies, submits the authorize page's forms with plain HTTP. */
export class TestBrowser {
  cookies = new Map<string, string>()
  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }
  private keep(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';')
      const eq = pair!.indexOf('=')
      this.cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1))
    }
  }
  async get(url: string | URL): Promise<{ res: Response; html: string }> {
    const res = await fetch(url, { redirect: 'manual', headers: { cookie: this.cookieHeader() } })
    this.keep(res)
    return { res, html: await res.text() }
  }
  async post(url: string, fields: Record<string, string>): Promise<{ res: Response; html: string }> {
    const res = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        cookie: this.cookieHeader(),
        'content-type': 'application/x-www-form-urlencoded',
        origin: new URL(url).origin,
      },
      body: new URLSearchParams(fields),
    })
    this.keep(res)
    return { res, html: await res.text() }
  }
  /** Open the authorize URL, sign in (unless already), consent; returns the redirect Location. */
  async authorize(
    authorizeUrl: string | URL,
    creds = { identifier: ALICE.handle, password: ALICE.password },
  ) {
    const action = new URL('/oauth/authorize', authorizeUrl).href
    let { res, html } = await this.get(authorizeUrl)
    if (res.status !== 200) throw new Error(`authorize page: ${res.status} ${html}`)
    if (html.includes('name="password"')) {
      ;({ res, html } = await this.post(action, { ...hiddenFields(html), action: 'sign-in', ...creds }))
      if (res.status !== 200) throw new Error(`sign-in: ${res.status} ${html}`)
    }
    ;({ res } = await this.post(action, { ...hiddenFields(html), action: 'consent' }))
    if (res.status !== 303) throw new Error(`consent: ${res.status}`)
    return res.headers.get('location')!
  }
}

/** PKCE pair. */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') }
}

/** A bare DPoP client that lets tests break every rule on purpose. */
export class DpopClient {
  nonce: string | undefined
  private constructor(
    readonly key: CryptoKey,
    readonly jwk: JWK,
  ) {}
  static async create(): Promise<DpopClient> {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
    return new DpopClient(privateKey, await exportJWK(publicKey))
  }
  proof(htm: string, htu: string, extra: Record<string, unknown> = {}): Promise<string> {
    return new SignJWT({
      htm,
      htu,
      jti: randomBytes(12).toString('base64url'),
      iat: Math.floor(Date.now() / 1000),
      ...(this.nonce ? { nonce: this.nonce } : {}),
      ...extra,
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: this.jwk })
      .sign(this.key)
  }
  /** POST a form with a fresh proof; retries once on `use_dpop_nonce` like real clients. */
  async post(
    url: string,
    form: Record<string, string>,
    proof?: string,
  ): Promise<{ status: number; body: any; res: Response }> {
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          dpop: proof ?? (await this.proof('POST', url)),
        },
        body: new URLSearchParams(form),
      })
      const nonce = res.headers.get('dpop-nonce')
      const text = await res.text()
      const body = text ? JSON.parse(text) : null
      if (nonce) this.nonce = nonce
      if (res.status === 400 && body?.error === 'use_dpop_nonce' && attempt === 0 && !proof) continue
      return { status: res.status, body, res }
    }
  }
}

/** A self-signed certificate for `host` (openssl CLI). */
export function certFor(host: string): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'natp-oauth-cert-'))
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'k.pem'),
        '-out',
        join(dir, 'c.pem'),
        '-days',
        '1',
        '-subj',
        `/CN=${host}`,
        '-addext',
        `subjectAltName=DNS:${host}`,
      ],
      { stdio: 'ignore' },
    )
    return { key: readFileSync(join(dir, 'k.pem'), 'utf8'), cert: readFileSync(join(dir, 'c.pem'), 'utf8') }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
