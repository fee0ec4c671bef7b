import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { classifyAddress } from './ip-ranges.js'
import { safeFetch } from './safe-fetch.js'
import {
  FetchNetworkError,
  FetchTimeoutError,
  ResponseTooLargeError,
  SsrfBlockedError,
  TooManyRedirectsError,
} from './safe-fetch-errors.js'
import { selfSignedCert, startHttpServer, startHttpsServer, type TestServer } from './test-servers.js'

describe('classifyAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'private'],
    ['100.64.0.1', 'private'],
    ['100.127.255.255', 'private'],
    ['0.0.0.0', 'private'],
    ['0.1.2.3', 'private'],
    ['224.0.0.1', 'private'],
    ['255.255.255.255', 'private'],
    ['::', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fe80::1%eth0', 'private'],
    ['ff02::1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'private'],
    ['64:ff9b::a00:1', 'private'],
    ['2002:a00:1::', 'private'],
    ['not-an-ip', 'private'],
    ['8.8.8.8', 'public'],
    ['172.32.0.1', 'public'],
    ['100.128.0.1', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['::ffff:8.8.8.8', 'public'],
  ])('%s is %s', (ip, cls) => {
    expect(classifyAddress(ip)).toBe(cls)
  })
})

describe('safeFetch', () => {
  let server: TestServer
  let tlsServer: TestServer
  let tls: { key: string; cert: string }
  beforeAll(async () => {
    server = await startHttpServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x')
      if (u.pathname === '/ok') return res.writeHead(200, { 'content-type': 'text/plain' }).end('hello')
      if (u.pathname === '/redirect') {
        return res.writeHead(302, { location: u.searchParams.get('to') ?? '/ok' }).end()
      }
      if (u.pathname === '/loop') return res.writeHead(301, { location: '/loop' }).end()
      if (u.pathname === '/hang') return // never answers
      if (u.pathname === '/big')
        return res.writeHead(200, { 'content-length': '5000000' }).end('x'.repeat(5_000_000))
      if (u.pathname === '/big-chunked') {
        res.writeHead(200)
        const chunk = 'y'.repeat(64 * 1024)
        let n = 0
        const write = () => {
          while (n++ < 100) if (!res.write(chunk)) return res.once('drain', write)
          res.end()
        }
        return write()
      }
      res.writeHead(404).end()
    })
    tls = selfSignedCert()
    tlsServer = await startHttpsServer(tls, (_req, res) => res.writeHead(200).end('secure'))
  })
  afterAll(async () => {
    await server?.close()
    await tlsServer?.close()
  })

  it('refuses http unless allowed, and loopback unless allowed', async () => {
    await expect(safeFetch(`${server.url}/ok`)).rejects.toThrow(SsrfBlockedError)
    await expect(safeFetch(`${server.url}/ok`, { allowHttp: true })).rejects.toThrow(SsrfBlockedError)
    const res = await safeFetch(`${server.url}/ok`, { allowHttp: true, allowLoopback: true })
    expect(res.status).toBe(200)
    expect(res.text()).toBe('hello')
    expect(res.headers.get('content-type')).toBe('text/plain')
  })

  it.each([
    'https://127.0.0.1/',
    'https://10.0.0.1/',
    'https://169.254.169.254/latest/meta-data',
    'https://[::1]/',
    'https://[::ffff:127.0.0.1]/',
    'https://[::ffff:10.0.0.1]/',
    'https://[fe80::1]/',
    'https://[fd00::1]/',
    'https://0.0.0.0/',
    'https://100.64.0.1/',
    'https://0x7f.1/', // WHATWG normalizes to 127.0.0.1
    'https://2130706433/', // decimal 127.0.0.1
    'ftp://example.com/',
    'https://user:pw@example.com/',
  ])('blocks IP literal / scheme %s', async (url) => {
    await expect(
      safeFetch(url, { lookup: async () => [{ address: '93.184.216.34', family: 4 }] }),
    ).rejects.toThrow(SsrfBlockedError)
  })

  it('blocks hostnames that resolve to private addresses, even among public ones', async () => {
    const lookup = async (host: string) =>
      host === 'evil.example'
        ? [{ address: '10.0.0.5', family: 4 }]
        : [
            { address: '93.184.216.34', family: 4 },
            { address: '::ffff:169.254.169.254', family: 6 },
          ]
    await expect(safeFetch('https://evil.example/', { lookup })).rejects.toThrow(SsrfBlockedError)
    await expect(safeFetch('https://mixed.example/', { lookup })).rejects.toThrow(/169\.254/)
    await expect(safeFetch('http://localhost/', { allowHttp: true })).rejects.toThrow(SsrfBlockedError)
  })

  it('pins the socket to the vetted address (no second DNS query)', async () => {
    // `rebind.invalid` cannot resolve through real DNS: success proves the vetted address was used.
    const lookup = async () => [{ address: '127.0.0.1', family: 4 }]
    const res = await safeFetch(`http://rebind.invalid:${server.port}/ok`, {
      lookup,
      allowHttp: true,
      allowLoopback: true,
    })
    expect(res.text()).toBe('hello')
  })

  it('re-vets every redirect hop', async () => {
    const opts = { allowHttp: true, allowLoopback: true }
    const ok = await safeFetch(`${server.url}/redirect?to=/ok`, opts)
    expect(ok.text()).toBe('hello')
    expect(ok.url).toBe(`${server.url}/ok`)
    for (const to of [
      'http://169.254.169.254/',
      'http://10.0.0.1/',
      'http://[fc00::1]/',
      'file:///etc/passwd',
    ]) {
      await expect(safeFetch(`${server.url}/redirect?to=${encodeURIComponent(to)}`, opts)).rejects.toThrow(
        SsrfBlockedError,
      )
    }
    await expect(safeFetch(`${server.url}/loop`, opts)).rejects.toThrow(TooManyRedirectsError)
  })

  it('times out', async () => {
    const t0 = Date.now()
    await expect(
      safeFetch(`${server.url}/hang`, { allowHttp: true, allowLoopback: true, timeoutMs: 200 }),
    ).rejects.toThrow(FetchTimeoutError)
    expect(Date.now() - t0).toBeLessThan(2000)
  })

  it('caps the body size, declared or streamed', async () => {
    const opts = { allowHttp: true, allowLoopback: true, maxBytes: 100_000 }
    await expect(safeFetch(`${server.url}/big`, opts)).rejects.toThrow(ResponseTooLargeError)
    await expect(safeFetch(`${server.url}/big-chunked`, opts)).rejects.toThrow(ResponseTooLargeError)
  })

  it('speaks https with a pinned address and verifies the certificate', async () => {
    const url = `https://localhost:${tlsServer.port}/`
    await expect(safeFetch(url, { allowLoopback: true })).rejects.toThrow(FetchNetworkError)
    const res = await safeFetch(url, { allowLoopback: true, ca: tls.cert })
    expect(res.text()).toBe('secure')
  })

  it('reports connection failures as FetchNetworkError', async () => {
    const closed = await startHttpServer(() => {})
    await closed.close()
    await expect(safeFetch(`${closed.url}/`, { allowHttp: true, allowLoopback: true })).rejects.toThrow(
      FetchNetworkError,
    )
  })
})
