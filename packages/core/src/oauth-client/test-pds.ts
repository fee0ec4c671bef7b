/**
 * Test harness of the OAuth client tests (not built, not exported): a PDS with its authorization
 * server and a PLC directory on loopback HTTP, accounts created over XRPC, a request log, and an
 * identity resolver that reaches the PDS's handles and PLC directory on loopback.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { MemoryBlobStore, memoryAdapter } from '@next-atproto/adapters'
import { type Atproto, createAtproto } from '../atproto.js'
import { IdentityResolver } from '../identity/identity-resolver.js'
import { toNodeHandler } from '../node/to-node-handler.js'
import type { OAuthAccount, OAuthAccountProvider } from '../oauth/accounts.js'
import { type OAuthServer, type OAuthServerOptions, oauthServer } from '../oauth/authorization-server.js'
import { MemoryOAuthStore } from '../oauth/store.js'
import { pds } from '../pds/index.js'
import { verifyPassword } from '../pds/password.js'
import { AccountSigningKey } from '../pds/signing-key.js'
import { plcService } from '../plc/service.js'
import type { StorageAdapter } from '../storage/types.js'

/** One logged response of the harness server. */
export interface LoggedResponse {
  method: string
  path: string
  status: number
  /** OAuth error code from the body or the WWW-Authenticate challenge, when there is one. */
  error?: string
  grantType?: string
}

/** A loopback HTTP server around an {@link Atproto} app, logging every response. */
export async function serve(
  make: (url: string) => Atproto,
  extra?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean,
): Promise<{ url: string; app: Atproto; log: LoggedResponse[]; close(): Promise<void> }> {
  let handler: http.RequestListener = (_req, res) => res.end()
  const log: LoggedResponse[] = []
  const server = http.createServer((req, res) => {
    if (extra?.(req, res)) return
    handler(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const app = make(url)
  const inner = toNodeHandler(app) as http.RequestListener
  handler = (req, res) => {
    const chunks: Buffer[] = []
    const write = res.write.bind(res)
    const end = res.end.bind(res)
    res.write = ((chunk: any, ...rest: any[]) => {
      if (chunk) chunks.push(Buffer.from(chunk))
      return write(chunk, ...rest)
    }) as typeof res.write
    res.end = ((chunk: any, ...rest: any[]) => {
      if (chunk && typeof chunk !== 'function') chunks.push(Buffer.from(chunk))
      const entry: LoggedResponse = {
        method: req.method ?? '',
        path: (req.url ?? '').split('?')[0]!,
        status: res.statusCode,
      }
      const www = String(res.getHeader('www-authenticate') ?? '')
      const m = /error="([^"]+)"/.exec(www)
      if (m) entry.error = m[1]
      else if (res.statusCode >= 400) {
        try {
          entry.error = JSON.parse(Buffer.concat(chunks).toString()).error
        } catch {}
      }
      log.push(entry)
      return end(chunk, ...rest)
    }) as typeof res.end
    inner(req, res)
  }
  await app.ready
  return {
    url,
    app,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** The PDS's accounts as the authorization server sees them (what a host app's hook does). */
export function pdsAccounts(storage: StorageAdapter): OAuthAccountProvider {
  const toAccount = (row: { did: string; handle: string; status: string } | null): OAuthAccount | null =>
    row && row.status === 'active' ? { sub: row.did, handle: row.handle } : null
  return {
    async authenticate(identifier, password) {
      const row = identifier.startsWith('did:')
        ? await storage.accounts.getByDid(identifier)
        : await storage.accounts.getByHandle(identifier.toLowerCase())
      if (!row?.passwordHash || !(await verifyPassword(password, row.passwordHash))) return null
      return toAccount(row)
    },
    getAccount: async (sub) => toAccount(await storage.accounts.getByDid(sub)),
  }
}

export interface TestPds {
  url: string
  app: Atproto
  oauth: OAuthServer
  oauthStore: MemoryOAuthStore
  storage: StorageAdapter
  log: LoggedResponse[]
  /** Create an account over XRPC; returns its DID, handle and password. */
  createAccount(name: string): Promise<{ did: string; handle: string; password: string }>
  /** An identity resolver that reaches this PDS's handles and PLC directory on loopback. */
  identity(): IdentityResolver
  close(): Promise<void>
}

/** Start a PDS with its authorization server and a PLC directory on 127.0.0.1. */
export async function startTestPds(oauthOptions: Partial<OAuthServerOptions> = {}): Promise<TestPds> {
  const storage = memoryAdapter()
  const oauthStore = new MemoryOAuthStore()
  let oauth!: OAuthServer
  const served = await serve((url) => {
    oauth = oauthServer({
      store: oauthStore,
      accounts: pdsAccounts(storage),
      clientFetch: { allowLoopback: true },
      ...oauthOptions,
    })
    const app: Atproto = createAtproto({
      publicUrl: url,
      services: [
        plcService({ store: storage.plc! }),
        oauth,
        pds({
          storage,
          blobstore: new MemoryBlobStore(),
          jwtSecret: 'x'.repeat(32),
          handleDomains: ['.test'],
          plcUrl: `${url}/plc`,
          plcRotationKey: AccountSigningKey.generate(),
          oauth,
          rateLimits: false,
          fetch: (input, init) => app.fetch(new Request(input as string, init)),
        }),
      ],
    })
    return app
  })
  await served.app.start()
  const { url } = served
  return {
    ...served,
    oauth,
    oauthStore,
    storage,
    async createAccount(name) {
      const handle = `${name}.test`
      const password = `pw-${name}-secret`
      const res = await fetch(`${url}/xrpc/com.atproto.server.createAccount`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ handle, password, email: `${name}@mail.test` }),
      })
      const body = (await res.json()) as { did: string }
      if (res.status !== 200) throw new Error(`createAccount: ${res.status} ${JSON.stringify(body)}`)
      return { did: body.did, handle, password }
    },
    identity: () => loopbackIdentity(url),
    close: async () => {
      await served.app.close?.()
      await served.close()
    },
  }
}

/**
 * Handles `*.test` resolve through the PDS's `resolveHandle` (standing in for their DNS TXT records),
 * DIDs through its PLC directory; loopback allowed.
 */
export function loopbackIdentity(pdsUrl: string): IdentityResolver {
  return new IdentityResolver({
    plcUrl: `${pdsUrl}/plc`,
    allowLoopback: true,
    allowHttp: true,
    wellKnownUrl: () => 'http://127.0.0.1:9/unused',
    resolveTxt: async (name) => {
      const handle = name.replace(/^_atproto\./, '')
      const res = await fetch(`${pdsUrl}/xrpc/com.atproto.identity.resolveHandle?handle=${handle}`)
      if (!res.ok) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' })
      return [[`did=${((await res.json()) as { did: string }).did}`]]
    },
  })
}
