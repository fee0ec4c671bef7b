// The forum's sign-up route over HTTP: a forum member plus an atproto account that @atproto/api then
// sees (handle resolves, repo served, no password of its own). Refusals create nothing.
import { AtpAgent } from '@atproto/api'
import { expect, it } from 'vitest'

/** Register the sign-up tests against the app at `url()` (`post` sends JSON to a path of it). */
export function signupSuite(
  url: () => string,
  post?: (path: string, body: unknown) => Promise<Response>,
): void {
  const send = (body: unknown) =>
    post
      ? post('/api/signup', body)
      : fetch(`${url()}/api/signup`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
  const unique = () => `m${Math.random().toString(36).slice(2, 9)}`

  it('signs a member up: forum user and atproto account, linked', async () => {
    const username = unique()
    const res = await send({ username, password: 'forum-pass-1', email: `${username}@mail.test` })
    expect(res.status).toBe(201)
    const body = (await res.json()) as { userId: string; did: string; handle: string; username: string }
    expect(body).toMatchObject({ username, handle: `${username}.test` })
    expect(body.did).toMatch(/^did:plc:/)
    const agent = new AtpAgent({ service: url() })
    expect((await agent.com.atproto.identity.resolveHandle({ handle: body.handle })).data.did).toBe(body.did)
    expect((await agent.com.atproto.sync.getRepoStatus({ did: body.did })).data.active).toBe(true)
    // The atproto account has no password: the forum password is the forum's alone.
    await expect(agent.login({ identifier: body.handle, password: 'forum-pass-1' })).rejects.toMatchObject({
      status: 401,
    })
  })

  it('refuses taken, reserved and malformed sign-ups without creating anything', async () => {
    const username = unique()
    expect((await send({ username, password: 'forum-pass-1' })).status).toBe(201)
    const again = await send({ username, password: 'forum-pass-2' })
    expect(again.status).toBe(409)
    expect(await again.json()).toMatchObject({ error: 'UsernameTaken' })
    const refused: Array<[unknown, number]> = [
      [{ username: 'admin', password: 'forum-pass-1' }, 409], // reserved by the PDS's handle policy
      [{ username: 'x', password: 'forum-pass-1' }, 400],
      [{ username: unique(), password: 'short' }, 400],
      [{ username: unique(), password: 'forum-pass-1', email: 'not-an-email' }, 400],
      ['not an object', 400],
    ]
    for (const [body, status] of refused) {
      const res = await send(body)
      expect(res.status, JSON.stringify(body)).toBe(status)
      expect(await res.json()).toHaveProperty('error')
    }
    const agent = new AtpAgent({ service: url() })
    await expect(agent.com.atproto.identity.resolveHandle({ handle: 'admin.test' })).rejects.toMatchObject({
      status: 400,
    })
  })
}
