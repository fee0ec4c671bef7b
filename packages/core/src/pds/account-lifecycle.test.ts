// Account lifecycle through @atproto/api against an in-process PDS (memory storage, captured email).
import { AtpAgent } from '@atproto/api'
import { verifySignature } from '@atproto/crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Atproto } from '../atproto.js'
import type { pds } from './index.js'
import { inProcessPds } from './test-pds-app.js'

const publicUrl = 'http://pds.test'
const mail: Array<{ to: string; text: string }> = []
let app: Atproto
const agentFor = () =>
  new AtpAgent({ service: publicUrl, fetch: (input, init) => app.fetch(new Request(input as string, init)) })
const codeIn = (text: string) => /([A-Z0-9]{5}-[A-Z0-9]{5})/.exec(text)![1]!

function makeApp(rateLimits?: Parameters<typeof pds>[0]['rateLimits']): Atproto {
  return inProcessPds({ publicUrl, email: { send: async (m) => void mail.push(m) }, rateLimits }).app
}

beforeAll(async () => {
  app = makeApp()
  await app.start()
})

const newAccount = async () => {
  const agent = agentFor()
  const name = `a${Math.random().toString(36).slice(2, 9)}`
  const res = await agent.createAccount({
    handle: `${name}.test`,
    password: 'password-1',
    email: `${name}@mail.test`,
  })
  return { agent, did: res.data.did, email: `${name}@mail.test`, handle: `${name}.test` }
}

describe('account lifecycle', () => {
  it('deactivates (writes refused, repo hidden) and activates again', async () => {
    const { agent, did } = await newAccount()
    await agent.com.atproto.server.deactivateAccount({})
    await expect(
      agent.com.atproto.repo.createRecord({ repo: did, collection: 'app.test.thing', record: { a: 1 } }),
    ).rejects.toMatchObject({ error: 'AccountDeactivated' })
    await expect(agentFor().com.atproto.sync.getLatestCommit({ did })).rejects.toMatchObject({
      error: 'RepoDeactivated',
    })
    expect((await agentFor().com.atproto.sync.getRepoStatus({ did })).data).toMatchObject({
      active: false,
      status: 'deactivated',
    })
    await agent.com.atproto.server.activateAccount()
    await agent.com.atproto.repo.createRecord({ repo: did, collection: 'app.test.thing', record: { a: 1 } })
    expect((await agentFor().com.atproto.sync.getRepoStatus({ did })).data.active).toBe(true)
  })

  it('resets a password by emailed code, ending old sessions', async () => {
    const { agent, email, handle } = await newAccount()
    await agentFor().com.atproto.server.requestPasswordReset({ email })
    const token = codeIn(mail.at(-1)!.text)
    await agentFor().com.atproto.server.resetPassword({ token, password: 'new-password-2' })
    await expect(
      agentFor().com.atproto.server.resetPassword({ token, password: 'again-password-3' }),
    ).rejects.toMatchObject({
      error: 'InvalidToken',
    })
    await expect(agentFor().login({ identifier: handle, password: 'password-1' })).rejects.toMatchObject({
      status: 401,
    })
    await agentFor().login({ identifier: handle, password: 'new-password-2' })
    // The old refresh token died with the old password.
    await expect(agent.sessionManager.refreshSession()).rejects.toMatchObject({ error: 'ExpiredToken' })
  })

  it('deletes an account with password and emailed code; its repo is gone', async () => {
    const { agent, did } = await newAccount()
    await agent.com.atproto.server.requestAccountDelete()
    const token = codeIn(mail.at(-1)!.text)
    await expect(
      agentFor().com.atproto.server.deleteAccount({ did, password: 'wrong-password', token }),
    ).rejects.toMatchObject({ status: 401 })
    await agentFor().com.atproto.server.deleteAccount({ did, password: 'password-1', token })
    await expect(agentFor().com.atproto.sync.getLatestCommit({ did })).rejects.toMatchObject({
      error: 'RepoNotFound',
    })
  })

  it('issues service-auth tokens signed by the account key', async () => {
    const { agent, did } = await newAccount()
    const { data } = await agent.com.atproto.server.getServiceAuth({
      aud: 'did:web:feed.test',
      lxm: 'app.bsky.feed.getFeedSkeleton',
    })
    const [h, p, s] = data.token.split('.')
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString())
    expect(payload).toMatchObject({
      iss: did,
      aud: 'did:web:feed.test',
      lxm: 'app.bsky.feed.getFeedSkeleton',
    })
    const doc = (await agent.com.atproto.repo.describeRepo({ repo: did })).data.didDoc as {
      verificationMethod: Array<{ publicKeyMultibase: string }>
    }
    const key = `did:key:${doc.verificationMethod[0]!.publicKeyMultibase}`
    const ok = await verifySignature(key, new TextEncoder().encode(`${h}.${p}`), Buffer.from(s!, 'base64url'))
    expect(ok).toBe(true)
    await expect(
      agent.com.atproto.server.getServiceAuth({
        aud: 'did:web:feed.test',
        exp: Math.floor(Date.now() / 1000) + 7200,
      }),
    ).rejects.toMatchObject({ error: 'BadExpiration' })
  })
})

describe('record writes', () => {
  it('answers a put that changes nothing with the record CID and the current commit', async () => {
    const { agent, did } = await newAccount()
    const put = () =>
      agent.com.atproto.repo.putRecord({
        repo: did,
        collection: 'app.test.thing',
        rkey: 'same',
        record: { $type: 'app.test.thing', a: 1 },
      })
    const first = await put()
    const second = await put()
    expect(second.data.cid).toBe(first.data.cid)
    expect(second.data.uri).toBe(first.data.uri)
  })
})

describe('rate limits', () => {
  it('refuses writes past the per-account limit with 429 and RateLimit headers, counting per account', async () => {
    const limited = makeApp({ writes: { limit: 3, windowMs: 60_000 } })
    const agent = new AtpAgent({
      service: publicUrl,
      fetch: (input, init) => limited.fetch(new Request(input as string, init)),
    })
    await agent.createAccount({ handle: 'limited.test', password: 'password-1' })
    const did = agent.session!.did
    const write = () =>
      agent.com.atproto.repo.createRecord({ repo: did, collection: 'app.test.thing', record: { a: 1 } })
    for (let i = 0; i < 3; i++) await write()
    const refused = await write().catch((err) => err)
    expect(refused).toMatchObject({ status: 429, error: 'RateLimitExceeded' })
    expect(refused.headers['ratelimit-remaining']).toBe('0')
    // Another account has its own budget.
    const other = new AtpAgent({
      service: publicUrl,
      fetch: (input, init) => limited.fetch(new Request(input as string, init)),
    })
    await other.createAccount({ handle: 'other.test', password: 'password-1' })
    await other.com.atproto.repo.createRecord({
      repo: other.session!.did,
      collection: 'app.test.thing',
      record: { a: 1 },
    })
  })
})
