// Identity as the forum serves it: handles on its domain resolve over /.well-known/atproto-did by the
// request's Host (Next.js answers it in proxy.ts, Express through the node handler), and the local PLC
// directory under /plc serves the DID documents of its accounts. Run against both mounts.
import { request } from 'node:http'
import { expect, it } from 'vitest'

/** GET `path` on the app with a chosen Host header (fetch cannot set Host). */
function getWithHost(base: string, path: string, host: string): Promise<{ status: number; text: string }> {
  const url = new URL(path, base)
  return new Promise((resolve, reject) => {
    const req = request({ hostname: url.hostname, port: url.port, path: url.pathname, headers: { host } })
    req.on('response', (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c) => (text += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** Register the identity tests against the app at `url()`. */
export function identitySuite(url: () => string): void {
  it('answers /.well-known/atproto-did by Host for its handles, and 404 for others', async () => {
    const handle = `w${Math.random().toString(36).slice(2, 10)}.test`
    const res = await fetch(`${url()}/xrpc/com.atproto.server.createAccount`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ handle, password: 'password-1' }),
    })
    const account = await res.json()
    expect(res.status, JSON.stringify(account)).toBe(200)

    const own = await getWithHost(url(), '/.well-known/atproto-did', handle)
    expect(own).toMatchObject({ status: 200 })
    expect(own.text.trim()).toBe(account.did)
    // Host names are case-insensitive; a handle nobody has is not found.
    expect((await getWithHost(url(), '/.well-known/atproto-did', handle.toUpperCase())).text.trim()).toBe(
      account.did,
    )
    expect((await getWithHost(url(), '/.well-known/atproto-did', `nobody-${handle}`)).status).toBe(404)

    // The local PLC directory (npm run dev's) serves the account's DID document.
    const doc = await fetch(`${url()}/plc/${account.did}`)
    expect(doc.status).toBe(200)
    const body = await doc.json()
    expect(body.id).toBe(account.did)
    expect(body.alsoKnownAs).toContain(`at://${handle}`)
  })
}
