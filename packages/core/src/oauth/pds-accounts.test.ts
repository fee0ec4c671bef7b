// The PDS's accounts behind the OAuth sign-in: passwords, app passwords, account status, managed
// members, sign-up. An in-process PDS on memory storage, driven through @atproto/api for setup.
import { AtpAgent } from '@atproto/api'
import { MemoryBlobStore, memoryAdapter } from '@next-atproto/adapters'
import { beforeAll, describe, expect, it } from 'vitest'
import { type Atproto, createAtproto } from '../atproto.js'
import { type PdsService, pds } from '../pds/index.js'
import { AccountSigningKey } from '../pds/signing-key.js'
import { plcService } from '../plc/service.js'
import type { OAuthAccountProvider } from './accounts.js'
import { pdsOAuthAccounts } from './pds-accounts.js'

const publicUrl = 'http://pds.test'
const storage = memoryAdapter()
let app: Atproto
let service: PdsService
let accounts: OAuthAccountProvider
const req = (cookie = '') => new Request(`${publicUrl}/oauth/authorize`, { headers: { cookie } })
const agentFor = () =>
  new AtpAgent({ service: publicUrl, fetch: (input, init) => app.fetch(new Request(input as string, init)) })

async function makePds(rateLimits?: Parameters<typeof pds>[0]['rateLimits']) {
  const store = rateLimits ? memoryAdapter() : storage
  const made: { app?: Atproto } = {}
  const svc = pds({
    storage: store,
    blobstore: new MemoryBlobStore(),
    jwtSecret: 'x'.repeat(32),
    handleDomains: ['.test'],
    plcUrl: `${publicUrl}/plc`,
    plcRotationKey: AccountSigningKey.generate(),
    rateLimits,
    fetch: (input, init) => made.app!.fetch(new Request(input as string, init)),
  })
  made.app = createAtproto({ publicUrl, services: [plcService({ store: store.plc! }), svc] })
  await made.app.start()
  return { app: made.app, service: svc }
}

beforeAll(async () => {
  ;({ app, service } = await makePds())
  accounts = pdsOAuthAccounts({
    pds: service,
    // The host app's session cookie carries the member's handle here.
    currentUser: (request) => /member=([^;]+)/.exec(request.headers.get('cookie') ?? '')?.[1] ?? null,
  })
})

const newAccount = async () => {
  const agent = agentFor()
  const handle = `p${Math.random().toString(36).slice(2, 9)}.test`
  const res = await agent.createAccount({ handle, password: 'password-1', email: `${handle}@mail.test` })
  return { agent, did: res.data.did, handle }
}

describe('pdsOAuthAccounts', () => {
  it('checks the account password by handle, email or DID; app passwords do not grant OAuth', async () => {
    const { agent, did, handle } = await newAccount()
    for (const id of [handle, `${handle}@mail.test`, did]) {
      expect(await accounts.authenticate(id, 'password-1', req())).toMatchObject({ sub: did, handle })
    }
    expect(await accounts.authenticate(handle, 'wrong', req())).toBeNull()
    expect(await accounts.authenticate('nobody.test', 'password-1', req())).toBeNull()
    const { data } = await agent.com.atproto.server.createAppPassword({ name: 'legacy' })
    expect(await accounts.authenticate(handle, data.password, req())).toBeNull()
  })

  it('deactivated and taken-down accounts cannot sign in and their sessions stop', async () => {
    const a = await newAccount()
    expect(await accounts.getAccount(a.did)).toMatchObject({ sub: a.did })
    await a.agent.com.atproto.server.deactivateAccount({})
    expect(await accounts.getAccount(a.did)).toBeNull()
    expect(await accounts.authenticate(a.handle, 'password-1', req())).toBeNull()
    expect(await accounts.currentUser!(req(`member=${a.handle}`))).toBeNull()
    const b = await newAccount()
    await storage.accounts.updateStatus(b.did, 'takendown')
    expect(await accounts.getAccount(b.did)).toBeNull()
  })

  it('maps the host app signed-in member to their account (managed accounts)', async () => {
    const { did, handle } = await newAccount()
    expect(await accounts.currentUser!(req(`member=${handle}`))).toMatchObject({ sub: did, handle })
    expect(await accounts.currentUser!(req(`member=${did}`))).toMatchObject({ sub: did })
    expect(await accounts.currentUser!(req())).toBeNull()
    expect(await accounts.currentUser!(req('member=ghost.test'))).toBeNull()
  })

  it('counts sign-in attempts per client address, in the PDS sign-in budget', async () => {
    const limited = await makePds({ createSession: { limit: 3, windowMs: 60_000 } })
    const p = pdsOAuthAccounts({ pds: limited.service })
    const guesser = { remoteAddress: '192.0.2.7' }
    for (let i = 0; i < 3; i++)
      expect(await p.authenticate('x.test', `guess-${i}`, req(), guesser)).toBeNull()
    await expect(p.authenticate('x.test', 'guess-4', req(), guesser)).rejects.toMatchObject({
      status: 429,
      userMessage: expect.stringMatching(/Too many sign-in attempts/),
    })
    // Another address, another account: its own budget.
    expect(await p.authenticate('y.test', 'guess', req(), { remoteAddress: '192.0.2.8' })).toBeNull()
    // The same account from a fresh address: the per-account count still stops the guesser.
    await expect(
      p.authenticate('x.test', 'guess-5', req(), { remoteAddress: '192.0.2.9' }),
    ).rejects.toMatchObject({
      status: 429,
    })
    // A mount that knows no address (no shared "unknown" bucket locking everyone out).
    for (let i = 0; i < 6; i++) expect(await p.authenticate(`z${i}.test`, 'guess', req())).toBeNull()
    await limited.app.close()
  })

  it('signs up through the PDS (bare names get the handle domain); PDS refusals reach the form', async () => {
    const name = `s${Math.random().toString(36).slice(2, 9)}`
    const made = await accounts.createAccount!(
      { handle: name, email: `${name}@mail.test`, password: 'long enough pw' },
      req(),
    )
    expect(made.handle).toBe(`${name}.test`)
    expect((await storage.accounts.getByDid(made.sub))?.handle).toBe(`${name}.test`)
    await expect(
      accounts.createAccount!(
        { handle: name, email: `x${name}@mail.test`, password: 'long enough pw' },
        req(),
      ),
    ).rejects.toMatchObject({ userMessage: expect.stringMatching(/taken/) })
    await expect(
      accounts.createAccount!({ handle: `t${name}`, email: `t${name}@mail.test`, password: 'short' }, req()),
    ).rejects.toMatchObject({ userMessage: expect.stringMatching(/8 characters/) })
    expect(pdsOAuthAccounts({ pds: service, signUp: false }).createAccount).toBeUndefined()
  })
})
