// The forum's own pages that read hosted accounts and records through next-atproto/trpc (Next.js only).
import { expect, it } from 'vitest'

/** Register the page tests against the Next.js app at `url()`. */
export function pagesSuite(url: () => string): void {
  it('lists hosted members and an account’s threads on the forum’s pages (tRPC, server-side)', async () => {
    const handle = `m${Math.random().toString(36).slice(2, 10)}.test`
    const created = await fetch(`${url()}/xrpc/com.atproto.server.createAccount`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ handle, password: 'password-1', email: `${handle}@mail.test` }),
    })
    const account = await created.json()
    expect(created.status, JSON.stringify(account)).toBe(200)
    const title = `Thread by ${handle}`
    const write = await fetch(`${url()}/xrpc/com.atproto.repo.createRecord`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${account.accessJwt}` },
      body: JSON.stringify({
        repo: account.did,
        collection: 'dev.nextatproto.forum.thread',
        record: {
          $type: 'dev.nextatproto.forum.thread',
          title,
          body: 'hi',
          createdAt: new Date().toISOString(),
        },
      }),
    })
    expect(write.status, await write.clone().text()).toBe(200)

    // Members are listed by DID; page through until this one shows up.
    let page = `${url()}/members`
    let found = false
    for (let i = 0; i < 20 && !found; i++) {
      const html = await (await fetch(page)).text()
      expect(html).toContain('<h1>Members</h1>')
      found = html.includes(`href="/members/${handle}"`)
      const more = /href="(\/members\?after=[^"]+)"/.exec(html)?.[1]
      if (!more) break
      page = `${url()}${more.replaceAll('&amp;', '&')}`
    }
    expect(found).toBe(true)

    const member = await fetch(`${url()}/members/${handle}`)
    expect(member.status).toBe(200)
    const html = await member.text()
    expect(html).toContain(`@${handle}`)
    expect(html).toContain(account.did)
    expect(html).toContain(title)

    expect((await fetch(`${url()}/members/nobody-here.test`)).status).toBe(404)
  })
}
