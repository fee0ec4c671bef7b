// Identity as the forum serves it: handles on its domain resolve over /.well-known/atproto-did by the
// request's Host (Next.js answers it in proxy.ts, Express through the node handler), and the local PLC
// directory under /plc serves the DID documents of its accounts. Run against both mounts.

import { request } from 'node:http'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { expect, it } from 'vitest'

const Database = createRequire(import.meta.url)('better-sqlite3') as new (
  file: string,
  opts: { readonly: boolean },
) => { prepare(sql: string): { all(): unknown[] }; close(): void }

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

/** Register the identity tests against the app at `url()` (its data folder from `dataDir()`). */
export function identitySuite(url: () => string, dataDir: () => string | undefined): void {
  it('counts sign-in attempts per client address, which a request header cannot forge', async () => {
    // Route handlers get no socket: the mount must still know who is calling (createNextServer hands
    // the address over); a client-sent header must not change it.
    for (const forged of ['forged 6.6.6.6', '']) {
      const res = await fetch(`${url()}/xrpc/com.atproto.server.createSession`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-next-atproto-remote': forged,
          'x-forwarded-for': '6.6.6.6',
        },
        body: JSON.stringify({ identifier: 'nobody.test', password: 'wrong-password' }),
      })
      expect(res.status).toBe(401)
    }
    const db = new Database(join(dataDir()!, 'forum.db'), { readonly: true })
    try {
      const keys = (
        db.prepare(`SELECT key FROM atproto_rate_limit WHERE key LIKE 'createSession:%'`).all() as Array<{
          key: string
        }>
      ).map((r) => r.key)
      expect(keys.some((k) => /127\.0\.0\.1/.test(k))).toBe(true)
      expect(keys.filter((k) => /6\.6\.6\.6|unknown|forged/.test(k))).toEqual([])
    } finally {
      db.close()
    }
  })

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
