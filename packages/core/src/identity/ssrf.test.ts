// SSRF acceptance: DIDs and handles that point at loopback, private, link-local or ULA addresses, or
// redirect into them, are refused by default; only an explicit `allowLoopback` reaches a loopback server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DidResolver } from './did-resolver.js'
import { HandleNotFoundError, IdentityResolutionError } from './errors.js'
import { HandleResolver } from './handle-resolver.js'
import { IdentityResolver } from './identity-resolver.js'
import { SsrfBlockedError } from './safe-fetch-errors.js'
import { startHttpServer, type TestServer } from './test-servers.js'

const DID = 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa'
let server: TestServer
let hits = 0

// Test DNS: the first label names the address class the host resolves to.
const ADDRESSES: Record<string, { address: string; family: number }> = {
  lo: { address: '127.0.0.1', family: 4 },
  ten: { address: '10.0.0.1', family: 4 },
  meta: { address: '169.254.169.254', family: 4 },
  v6lo: { address: '::1', family: 6 },
  ula: { address: 'fd00::1', family: 6 },
  mapped: { address: '::ffff:10.0.0.1', family: 6 },
}
const lookup = async (host: string) => {
  const a = ADDRESSES[host.split('.')[0]!] ?? ADDRESSES[host === 'localhost' ? 'lo' : '']
  if (!a) throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' })
  return [a]
}
const noTxt = async () => {
  throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' })
}

beforeAll(async () => {
  server = await startHttpServer((req, res) => {
    hits++
    const u = new URL(req.url ?? '/', 'http://x')
    const to = u.searchParams.get('to')
    if (to) return res.writeHead(302, { location: to }).end()
    if (u.pathname === '/.well-known/atproto-did') return res.writeHead(200).end(DID)
    if (u.pathname === '/.well-known/did.json') {
      const host = req.headers.host ?? ''
      const did = `did:web:${host.replace(':', '%3A')}`
      return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: did }))
    }
    res.writeHead(404).end()
  })
})
afterAll(async () => {
  await server?.close()
})

/** Collects why the handle resolver's methods gave no answer. */
function handleResolver(opts: { allowLoopback?: boolean; path?: string } = {}) {
  const errors: unknown[] = []
  const resolver = new HandleResolver({
    lookup,
    resolveTxt: noTxt,
    allowHttp: true, // plain http to reach the test server; loopback stays refused unless opted in
    allowLoopback: opts.allowLoopback,
    wellKnownUrl: (h) => `http://${h}:${server.port}${opts.path ?? '/.well-known/atproto-did'}`,
    onError: (err, { method }) => method === 'http' && errors.push(err),
  })
  return { resolver, errors }
}

describe('SSRF: handles', () => {
  it('resolves a loopback handle only when loopback is opted in', async () => {
    const { resolver } = handleResolver({ allowLoopback: true })
    expect(await resolver.resolve('lo.test')).toBe(DID)
  })

  it.each(Object.keys(ADDRESSES))('refuses a handle whose host resolves to %s by default', async (name) => {
    const { resolver, errors } = handleResolver()
    const before = hits
    expect(await resolver.resolve(`${name}.test`)).toBeNull()
    expect(errors).toHaveLength(1)
    expect(errors[0]).toBeInstanceOf(SsrfBlockedError)
    expect(hits).toBe(before) // never contacted
  })

  it.each([
    'http://10.0.0.1/.well-known/atproto-did',
    'http://169.254.169.254/latest/meta-data',
    'http://[fd00::1]/',
    'http://[::ffff:a00:1]/',
    'http://ten.test/.well-known/atproto-did',
    'http://meta.test/',
  ])('refuses a well-known redirect into %s (even with loopback opted in)', async (to) => {
    const { resolver, errors } = handleResolver({
      allowLoopback: true,
      path: `/redirect?to=${encodeURIComponent(to)}`,
    })
    expect(await resolver.resolve('lo.test')).toBeNull()
    expect(errors[0]).toBeInstanceOf(SsrfBlockedError)
  })

  it('reports such a handle as not found through the identity resolver, with its default options', async () => {
    const r = new IdentityResolver({ lookup, resolveTxt: noTxt })
    for (const name of Object.keys(ADDRESSES)) {
      await expect(r.resolveIdentity(`${name}.test`)).rejects.toThrow(HandleNotFoundError)
    }
  })
})

describe('SSRF: did:web', () => {
  const blocked = async (resolver: DidResolver, did: string) => {
    const err = await resolver.resolve(did).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(IdentityResolutionError)
    expect((err as Error).cause).toBeInstanceOf(SsrfBlockedError)
  }

  it('resolves did:web:localhost%3Aport only with loopback opted in', async () => {
    const did = `did:web:localhost%3A${server.port}`
    const open = new DidResolver({ lookup, allowHttp: true, allowLoopback: true })
    expect((await open.resolve(did)).id).toBe(did)
    await blocked(new DidResolver({ lookup, allowHttp: true }), did)
    await blocked(new DidResolver({ lookup }), did)
  })

  it.each(Object.keys(ADDRESSES))('refuses did:web whose host resolves to %s', async (name) => {
    await blocked(new DidResolver({ lookup }), `did:web:${name}.test`)
  })

  it('follows no redirect for a DID document', async () => {
    // The did:web host answers 302 to its own valid document: loopback is opted in, redirects are not.
    const redirecting = await startHttpServer((_req, res) =>
      res.writeHead(302, { location: `http://127.0.0.1:${server.port}/.well-known/did.json` }).end(),
    )
    try {
      const r = new DidResolver({ lookup, allowHttp: true, allowLoopback: true })
      const err = await r.resolve(`did:web:localhost%3A${redirecting.port}`).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(IdentityResolutionError)
      expect((err as Error).message).toMatch(/302/)
    } finally {
      await redirecting.close()
    }
  })
})
