// One XRPC test suite, run against every mount of the forum (Next.js custom server, Express).
import { expect, it } from 'vitest'

/** Register the shared XRPC tests; `url()` gives the base URL of the running app. */
export function xrpcSuite(url: () => string): void {
  it('answers GET /xrpc/_health with the framework version', async () => {
    const res = await fetch(`${url()}/xrpc/_health`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    const pkg = await import('@next-atproto/core/package.json', { with: { type: 'json' } })
    expect(await res.json()).toEqual({ version: pkg.default.version })
  })

  it('answers an unknown XRPC method with 501 MethodNotImplemented', async () => {
    const res = await fetch(`${url()}/xrpc/com.example.doesNotExist`)
    expect(res.status).toBe(501)
    expect(await res.json()).toMatchObject({ error: 'MethodNotImplemented', message: expect.any(String) })
  })

  it('answers a malformed XRPC path with a JSON error, not a 5xx', async () => {
    const res = await fetch(`${url()}/xrpc/not..an..nsid`)
    expect(res.status).toBeGreaterThanOrEqual(400)
    expect(res.status).toBeLessThan(500)
    expect(await res.json()).toMatchObject({ error: expect.any(String), message: expect.any(String) })
  })

  it('answers CORS preflight for XRPC', async () => {
    const res = await fetch(`${url()}/xrpc/com.atproto.server.describeServer`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' },
    })
    expect(res.status).toBeLessThan(300)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
  })

  it("still serves the host app's own pages", async () => {
    const res = await fetch(`${url()}/`)
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('<h1>Forum</h1>')
  })
}
