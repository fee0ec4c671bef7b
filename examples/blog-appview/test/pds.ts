/**
 * A PDS with its OAuth authorization server and a PLC directory, on loopback, for the blog's browser
 * test. It is assembled from the core API the way examples/forum-pds assembles its PDS, plus the
 * authorization server (the forum-pds app does not mount it yet). Accounts sign in with their PDS
 * password; the request log lets the test see refreshes and revocations.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { MemoryBlobStore, memoryAdapter } from '@next-atproto/adapters'
import {
  AccountSigningKey,
  type Atproto,
  createAtproto,
  MemoryOAuthStore,
  type OAuthAccountProvider,
  type OAuthServer,
  oauthServer,
  pds,
  plcService,
  renderDefaultAuthorizePage,
  verifyPassword,
} from '@next-atproto/core'
import { toNodeHandler } from '@next-atproto/core/node'

export interface TestPds {
  url: string
  app: Atproto
  oauth: OAuthServer
  oauthStore: MemoryOAuthStore
  /** Every OAuth endpoint response: path, status and (for the token endpoint) the grant type. */
  oauthLog: Array<{ path: string; status: number; grantType?: string }>
  close(): Promise<void>
}

/** Start the PDS on 127.0.0.1; `accessTokenSeconds` shortens access tokens so refreshes happen. */
export async function startPds(opts: { accessTokenSeconds?: number } = {}): Promise<TestPds> {
  const storage = memoryAdapter()
  const oauthStore = new MemoryOAuthStore()
  const accounts: OAuthAccountProvider = {
    async authenticate(identifier, password) {
      const row = identifier.startsWith('did:')
        ? await storage.accounts.getByDid(identifier)
        : await storage.accounts.getByHandle(identifier.toLowerCase())
      if (!row?.passwordHash || row.status !== 'active') return null
      return (await verifyPassword(password, row.passwordHash)) ? { sub: row.did, handle: row.handle } : null
    },
    async getAccount(sub) {
      const row = await storage.accounts.getByDid(sub)
      return row && row.status === 'active' ? { sub: row.did, handle: row.handle } : null
    },
  }
  const oauthLog: TestPds['oauthLog'] = []
  let handler: http.RequestListener = (_req, res) => res.end()
  const server = http.createServer((req, res) => handler(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const oauth = oauthServer({
    store: oauthStore,
    accounts,
    // Workaround, until the default page is fixed: its `no-referrer` policy makes Chromium send
    // `Origin: null` on the page's own form posts, which the endpoint refuses as cross-site.
    renderAuthorizePage: (view) =>
      renderDefaultAuthorizePage(view).replace(
        '<meta name="referrer" content="no-referrer">',
        '<meta name="referrer" content="same-origin">',
      ),
    ...(opts.accessTokenSeconds ? { lifetimes: { accessToken: opts.accessTokenSeconds } } : {}),
  })
  const app: Atproto = createAtproto({
    publicUrl: url,
    services: [
      plcService({ store: storage.plc! }),
      oauth,
      pds({
        storage,
        blobstore: new MemoryBlobStore(),
        jwtSecret: 'blog-e2e-'.repeat(4),
        handleDomains: ['.test'],
        plcUrl: `${url}/plc`,
        plcRotationKey: AccountSigningKey.generate(),
        oauth,
        rateLimits: false,
        fetch: (input, init) => app.fetch(new Request(input as string, init)),
      }),
    ],
  })
  const inner = toNodeHandler(app) as http.RequestListener
  handler = (req, res) => {
    const path = (req.url ?? '').split('?')[0]!
    if (path.startsWith('/oauth/')) {
      let grantType: string | undefined
      if (path === '/oauth/token') {
        const chunks: Buffer[] = []
        req.on('data', (c: Buffer) => chunks.push(c))
        req.on('end', () => {
          grantType = new URLSearchParams(Buffer.concat(chunks).toString()).get('grant_type') ?? undefined
        })
      }
      res.on('finish', () => oauthLog.push({ path, status: res.statusCode, grantType }))
    }
    inner(req, res)
  }
  await app.start()
  return {
    url,
    app,
    oauth,
    oauthStore,
    oauthLog,
    async close() {
      await app.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
