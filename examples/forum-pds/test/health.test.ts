import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp, type RunningApp, startApp } from './start-app.js'

describe('forum-pds (next build + custom server)', () => {
  let app: RunningApp

  beforeAll(async () => {
    buildApp()
    app = await startApp()
  })
  afterAll(() => app?.stop())

  it('answers GET /xrpc/_health with the framework version', async () => {
    const res = await fetch(`${app.url}/xrpc/_health`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    const body = await res.json()
    const pkg = await import('@next-atproto/core/package.json', { with: { type: 'json' } })
    expect(body).toEqual({ version: pkg.default.version })
  })

  it("still serves the host app's own pages", async () => {
    const res = await fetch(`${app.url}/`)
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('<h1>Forum</h1>')
  })

  it('answers an unknown XRPC method with 501 MethodNotImplemented', async () => {
    const res = await fetch(`${app.url}/xrpc/com.example.doesNotExist`)
    expect(res.status).toBe(501)
    expect(await res.json()).toMatchObject({ error: 'MethodNotImplemented' })
  })
})
