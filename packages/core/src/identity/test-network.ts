/**
 * A small loopback "internet" for identity tests (not built, not exported): PDS apps on real HTTP
 * servers, and name mapping so that `https://alice.example.org/...` reaches the right loopback port.
 */
import http from 'node:http'
import { AtpAgent } from '@atproto/api'
import { MemoryBlobStore, memoryAdapter } from '@next-atproto/adapters'
import { type Atproto, createAtproto } from '../atproto.js'
import { toNodeHandler } from '../node/to-node-handler.js'
import type { PdsOptions } from '../pds/config.js'
import type { PdsContext } from '../pds/context.js'
import { pds } from '../pds/index.js'
import { AccountSigningKey } from '../pds/signing-key.js'
import { plcService } from '../plc/service.js'
import type { StorageAdapter } from '../storage/types.js'
import type { IdentityResolverOptions } from './identity-resolver.js'
import { startHttpServer, type TestServer } from './test-servers.js'

/**
 * A fetch that sends requests for mapped hostnames (any scheme, any port) as plain http to
 * 127.0.0.1:<port> with the original `Host`, as a DNS record plus a TLS-terminating proxy would.
 * Global fetch cannot set `Host`, hence node:http.
 */
export function hostRoutedFetch(
  portFor: (hostname: string) => number | undefined,
  fallback: typeof fetch = globalThis.fetch,
): typeof fetch {
  return async (input, init) => {
    const req = input instanceof Request ? input : new Request(input, init)
    const url = new URL(req.url)
    const port = portFor(url.hostname)
    if (port === undefined) return fallback(input, init)
    const body = req.body ? Buffer.from(await req.arrayBuffer()) : undefined
    const headers: Record<string, string> = Object.fromEntries(req.headers)
    headers.host = url.hostname
    return new Promise<Response>((resolve, reject) => {
      const out = http.request(
        { host: '127.0.0.1', port, path: url.pathname + url.search, method: req.method, headers },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => {
            const h = new Headers()
            for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v)
            const status = res.statusCode ?? 500
            const payload = status === 204 || status === 304 ? null : Buffer.concat(chunks)
            resolve(new Response(payload, { status, headers: h }))
          })
          res.on('error', reject)
        },
      )
      out.on('error', reject)
      req.signal?.addEventListener('abort', () => out.destroy(new Error('aborted')))
      out.end(body)
    })
  }
}

/** Records that no name has: the tests' handles resolve over HTTP only. */
export const noTxt = async (): Promise<string[][]> => {
  throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' })
}

/** Resolver options for our loopback world: every name is 127.0.0.1; well-known goes to `portFor`. */
export function loopbackIdentity(portFor: (hostname: string) => number | undefined): IdentityResolverOptions {
  return {
    allowHttp: true,
    allowLoopback: true,
    lookup: async () => [{ address: '127.0.0.1', family: 4 }],
    resolveTxt: noTxt,
    wellKnownUrl: (h) => `http://${h}:${portFor(h) ?? 1}/.well-known/atproto-did`,
  }
}

/** A PDS app served on loopback HTTP at `http://localhost:<port>`. */
export interface TestPds {
  app: Atproto
  server: TestServer
  url: string
  port: number
  storage: StorageAdapter
  context: PdsContext
  mail: Array<{ to: string; subject: string; text: string }>
  agent(): AtpAgent
  close(): Promise<void>
}

/** Options of {@link startTestPds}: PDS options beside the defaults, and whether to serve PLC at /plc. */
export type TestPdsOptions = Partial<Omit<PdsOptions, 'storage' | 'blobstore'>> & {
  handleDomains: string[]
  /** Serve a PLC directory at `/plc` (default when `plcUrl` is not given). */
  servePlc?: boolean
}

/** Start a PDS (memory storage) on a real loopback HTTP server. */
export async function startTestPds(opts: TestPdsOptions): Promise<TestPds> {
  let node: ReturnType<typeof toNodeHandler> | undefined
  const server = await startHttpServer((req, res) => node!(req, res))
  const url = `http://localhost:${server.port}`
  const storage = memoryAdapter()
  const mail: TestPds['mail'] = []
  const servePlc = opts.servePlc ?? opts.plcUrl === undefined
  const service = pds({
    jwtSecret: 'x'.repeat(32),
    plcRotationKey: AccountSigningKey.generate(),
    plcUrl: `${url}/plc`,
    email: { send: async (m) => void mail.push(m) },
    rateLimits: false,
    ...opts,
    storage,
    blobstore: new MemoryBlobStore(),
  })
  const app = createAtproto({
    publicUrl: url,
    services: [...(servePlc ? [plcService({ store: storage.plc! })] : []), service],
  })
  node = toNodeHandler({ fetch: (r, c) => app.fetch(r, c), owns: () => true })
  await app.start()
  return {
    app,
    server,
    url,
    port: server.port,
    storage,
    context: service.context,
    mail,
    agent: () => new AtpAgent({ service: url }),
    async close() {
      await app.close()
      await server.close()
    },
  }
}
