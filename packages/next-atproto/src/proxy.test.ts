import { XrpcServer } from '@next-atproto/core'
import { describe, expect, it } from 'vitest'
import { atprotoProxy } from './proxy.js'

const preflight = (path: string, headers: Record<string, string> = {}) =>
  new Request(`https://forum.example${path}`, {
    method: 'OPTIONS',
    headers: {
      origin: 'https://app.example',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, dpop, atproto-proxy, content-type',
      ...headers,
    },
  })

const headersOf = (res: Response) => Object.fromEntries([...res.headers].sort())

describe('atprotoProxy', () => {
  it('answers an XRPC preflight exactly as the XRPC server does', async () => {
    const step = atprotoProxy()
    const res = step(preflight('/xrpc/com.atproto.repo.uploadBlob'))!
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('access-control-allow-methods')).toBe('GET,HEAD,POST')
    expect(res.headers.get('access-control-allow-headers')).toBe(
      'authorization, dpop, atproto-proxy, content-type',
    )
    expect(res.headers.get('access-control-max-age')).toBe('86400')
    const server = await new XrpcServer().fetch(preflight('/xrpc/com.atproto.repo.uploadBlob'))
    expect(headersOf(res)).toEqual(headersOf(server))
    expect(server.status).toBe(res.status)
  })

  it('passes everything else through', () => {
    const step = atprotoProxy()
    expect(step(new Request('https://forum.example/xrpc/com.atproto.server.describeServer'))).toBeUndefined()
    expect(
      step(new Request('https://forum.example/xrpc/x.y.z', { method: 'POST', body: '{}' })),
    ).toBeUndefined()
    // OPTIONS without Access-Control-Request-Method is not a preflight.
    expect(step(new Request('https://forum.example/xrpc/x.y.z', { method: 'OPTIONS' }))).toBeUndefined()
    expect(step(preflight('/api/forum/threads'))).toBeUndefined()
    expect(step(preflight('/xrpcx'))).toBeUndefined()
  })

  it('takes the same CORS options as the server, and more paths', () => {
    const step = atprotoProxy({
      cors: { origin: 'https://app.example', maxAge: 60 },
      paths: ['/xrpc/', '/oauth/'],
    })
    const res = step(preflight('/oauth/token'))!
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(res.headers.get('access-control-max-age')).toBe('60')
    expect(step(preflight('/.well-known/atproto-did'))).toBeUndefined()
  })
})
