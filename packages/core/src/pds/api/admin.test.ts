// The operator's admin API and createReport through @atproto/api against an in-process PDS (memory
// storage); the moderation service that receives reports is a real HTTP server on loopback.
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { AtpAgent } from '@atproto/api'
import { verifySignature } from '@atproto/crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Atproto } from '../../atproto.js'
import { decodeCbor } from '../../data/cbor.js'
import type { StorageAdapter } from '../../storage/types.js'
import type { PdsOptions } from '../index.js'
import { inProcessPds } from '../test-pds-app.js'

const publicUrl = 'http://pds.test'
const ADMIN_PASSWORD = 'admin-secret-1'
const basic = (password: string) => ({
  authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`,
})
const admin = { headers: basic(ADMIN_PASSWORD) }

const mail: Array<{ to: string; subject: string; text: string }> = []

function makeApp(extra: Partial<PdsOptions> = {}): { app: Atproto; storage: StorageAdapter } {
  return inProcessPds({
    publicUrl,
    adminPassword: ADMIN_PASSWORD,
    email: { send: async (m) => void mail.push(m) },
    ...extra,
  })
}

// The moderation service: records what reached it and answers like a labeler would.
const reports: Array<{ authorization: string | null; body: any; url: string }> = []
let modServer: Server
let modUrl: string
let main: { app: Atproto; storage: StorageAdapter }
const agentFor = (app: Atproto = main.app) =>
  new AtpAgent({ service: publicUrl, fetch: (input, init) => app.fetch(new Request(input as string, init)) })

beforeAll(async () => {
  modServer = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const body = JSON.parse(Buffer.concat(chunks).toString())
    reports.push({ authorization: req.headers.authorization ?? null, body, url: req.url ?? '' })
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(
      JSON.stringify({
        id: reports.length,
        ...body,
        reportedBy: 'did:plc:reporter',
        createdAt: new Date().toISOString(),
      }),
    )
  })
  modServer.listen(0, '127.0.0.1')
  await once(modServer, 'listening')
  modUrl = `http://127.0.0.1:${(modServer.address() as AddressInfo).port}`
  main = makeApp({ reportService: { did: 'did:plc:moderationservice', url: modUrl } })
  await main.app.start()
})

afterAll(async () => {
  modServer.close()
  await main.app.close()
})

const newAccount = async () => {
  const agent = agentFor()
  const name = `a${Math.random().toString(36).slice(2, 9)}`
  const res = await agent.createAccount({
    handle: `${name}.test`,
    password: 'password-1',
    email: `${name}@mail.test`,
  })
  return { agent, did: res.data.did, handle: `${name}.test`, email: `${name}@mail.test` }
}

const eventsOf = async (did: string, type: string) =>
  (await main.storage.sequencer.range({ limit: 100_000 }))
    .filter((e) => e.did === did && e.type === type)
    .map((e) => decodeCbor(e.body) as Record<string, unknown>)

describe('admin auth', () => {
  it('refuses anonymous callers, user sessions and a wrong password, changing nothing', async () => {
    const { agent, did } = await newAccount()
    const anon = agentFor()
    const takedown = {
      subject: { $type: 'com.atproto.admin.defs#repoRef', did },
      takedown: { applied: true },
    }
    const attempts = [
      () => anon.com.atproto.admin.updateSubjectStatus(takedown),
      () => agent.com.atproto.admin.updateSubjectStatus(takedown), // the account's own bearer token
      () => anon.com.atproto.admin.updateSubjectStatus(takedown, { headers: basic('wrong-password') }),
      () => anon.com.atproto.admin.updateSubjectStatus(takedown, { headers: { authorization: 'Basic !!!' } }),
      () => anon.com.atproto.admin.deleteAccount({ did }, { headers: basic('') }),
      () =>
        anon.com.atproto.admin.updateAccountPassword(
          { did, password: 'hijacked-1' },
          { headers: basic('x') },
        ),
      () => anon.com.atproto.admin.getAccountInfo({ did }),
    ]
    for (const attempt of attempts) await expect(attempt()).rejects.toMatchObject({ status: 401 })
    expect((await anon.com.atproto.sync.getRepoStatus({ did })).data.active).toBe(true)
    await agentFor().login({ identifier: did, password: 'password-1' }) // password unchanged
  })

  it('refuses everything when no admin password is configured', async () => {
    const bare = makeApp({ adminPassword: undefined })
    const res = await bare.app.fetch(
      new Request(`${publicUrl}/xrpc/com.atproto.admin.getAccountInfos?dids=did:plc:x`, {
        headers: basic(''),
      }),
    )
    expect(res.status).toBe(401)
  })
})

describe('account info and updates', () => {
  it('gets account infos and searches by email', async () => {
    const a = await newAccount()
    const b = await newAccount()
    const info = await agentFor().com.atproto.admin.getAccountInfo({ did: a.did }, admin)
    expect(info.data).toMatchObject({ did: a.did, handle: a.handle, email: a.email })
    const infos = await agentFor().com.atproto.admin.getAccountInfos(
      { dids: [a.did, b.did, 'did:plc:nobody'] },
      admin,
    )
    expect(infos.data.infos.map((i) => i.did)).toEqual([a.did, b.did])
    const found = await agentFor().com.atproto.admin.searchAccounts({ email: b.email }, admin)
    expect(found.data.accounts.map((x) => x.did)).toEqual([b.did])
    await expect(
      agentFor().com.atproto.admin.getAccountInfo({ did: 'did:plc:nobody' }, admin),
    ).rejects.toMatchObject({
      status: 400,
      error: 'NotFound',
    })
  })

  it('updates handle (DID document follows), email and password (sessions end)', async () => {
    const { agent, did } = await newAccount()
    const handle = `h${Math.random().toString(36).slice(2, 8)}.test`
    await agentFor().com.atproto.admin.updateAccountHandle({ did, handle }, admin)
    expect((await agentFor().com.atproto.identity.resolveHandle({ handle })).data.did).toBe(did)
    const doc = (await agentFor().com.atproto.repo.describeRepo({ repo: did })).data.didDoc as {
      alsoKnownAs: string[]
    }
    expect(doc.alsoKnownAs).toEqual([`at://${handle}`])
    expect((await eventsOf(did, 'identity')).at(-1)).toMatchObject({ handle })
    const other = await newAccount()
    await expect(
      agentFor().com.atproto.admin.updateAccountHandle({ did, handle: other.handle }, admin),
    ).rejects.toMatchObject({ error: 'HandleNotAvailable' })

    await agentFor().com.atproto.admin.updateAccountEmail({ account: did, email: 'New@Mail.test' }, admin)
    expect((await agentFor().com.atproto.admin.getAccountInfo({ did }, admin)).data.email).toBe(
      'new@mail.test',
    )
    await expect(
      agentFor().com.atproto.admin.updateAccountEmail({ account: other.did, email: 'new@mail.test' }, admin),
    ).rejects.toMatchObject({ status: 400 })

    await agentFor().com.atproto.admin.updateAccountPassword({ did, password: 'new-password-2' }, admin)
    await expect(agentFor().login({ identifier: did, password: 'password-1' })).rejects.toMatchObject({
      status: 401,
    })
    await agentFor().login({ identifier: did, password: 'new-password-2' })
    await expect(
      agentFor().com.atproto.server.refreshSession(undefined, {
        headers: { authorization: `Bearer ${agent.session!.refreshJwt}` },
      }),
    ).rejects.toMatchObject({ status: 400 })
    await expect(
      agentFor().com.atproto.admin.updateAccountPassword({ did, password: 'short' }, admin),
    ).rejects.toMatchObject({ error: 'InvalidPassword' })
  })

  it('sends an operator email to an account', async () => {
    const { did, email } = await newAccount()
    const res = await agentFor().com.atproto.admin.sendEmail(
      {
        recipientDid: did,
        senderDid: 'did:plc:operator',
        subject: 'Notice',
        content: 'Please read the rules',
      },
      admin,
    )
    expect(res.data.sent).toBe(true)
    expect(mail.at(-1)).toEqual({ to: email, subject: 'Notice', text: 'Please read the rules' })
    const count = mail.length
    await expect(
      agentFor().com.atproto.admin.sendEmail(
        { recipientDid: did, senderDid: 'did:plc:operator', content: 'x' },
        { headers: basic('wrong') },
      ),
    ).rejects.toMatchObject({ status: 401 })
    expect(mail.length).toBe(count)
  })

  it('disables invite codes by code and by account, never the operator’s own', async () => {
    const invites = main.storage.inviteCodes!
    const { did } = await newAccount()
    await invites.create([
      { code: 'code-a', availableUses: 1, forAccount: 'admin', createdBy: 'admin' },
      { code: 'code-b', availableUses: 1, forAccount: did, createdBy: 'admin' },
      { code: 'code-c', availableUses: 1, forAccount: 'admin', createdBy: 'admin' },
    ])
    await expect(
      agentFor().com.atproto.admin.disableInviteCodes({ codes: ['code-a'] }, { headers: basic('wrong') }),
    ).rejects.toMatchObject({ status: 401 })
    expect((await invites.get('code-a'))?.disabled).toBe(false)
    await agentFor().com.atproto.admin.disableInviteCodes({ codes: ['code-a'], accounts: [did] }, admin)
    expect((await invites.get('code-a'))?.disabled).toBe(true)
    expect((await invites.get('code-b'))?.disabled).toBe(true)
    expect((await invites.get('code-c'))?.disabled).toBe(false)
    await expect(
      agentFor().com.atproto.admin.disableInviteCodes({ accounts: ['admin'] }, admin),
    ).rejects.toMatchObject({ status: 400 })
    expect((await invites.get('code-c'))?.disabled).toBe(false)
  })

  it('deletes an account: repo gone, #account deleted on the firehose', async () => {
    const { did, handle } = await newAccount()
    await agentFor().com.atproto.admin.deleteAccount({ did }, admin)
    await expect(agentFor().com.atproto.sync.getRepoStatus({ did })).rejects.toMatchObject({
      error: 'RepoNotFound',
    })
    await expect(agentFor().login({ identifier: handle, password: 'password-1' })).rejects.toMatchObject({
      status: 401,
    })
    expect((await eventsOf(did, 'account')).at(-1)).toMatchObject({ active: false, status: 'deleted' })
    await expect(agentFor().com.atproto.admin.deleteAccount({ did }, admin)).rejects.toMatchObject({
      status: 400,
    })
  })
})

describe('takedowns', () => {
  const repoRef = (did: string) => ({ $type: 'com.atproto.admin.defs#repoRef', did })

  it('takes an account down (no login, no writes, repo not served, #account takendown) and back', async () => {
    const { agent, did, handle } = await newAccount()
    const post = await agent.com.atproto.repo.createRecord({
      repo: did,
      collection: 'app.test.post',
      record: { a: 1 },
    })
    const rkey = post.data.uri.split('/').pop()!
    const res = await agentFor().com.atproto.admin.updateSubjectStatus(
      { subject: repoRef(did), takedown: { applied: true, ref: 'TICKET-1' } },
      admin,
    )
    expect(res.data).toMatchObject({ subject: { did }, takedown: { applied: true, ref: 'TICKET-1' } })
    await expect(agentFor().login({ identifier: handle, password: 'password-1' })).rejects.toMatchObject({
      error: 'AccountTakedown',
    })
    await expect(
      agent.com.atproto.repo.createRecord({ repo: did, collection: 'app.test.post', record: { a: 2 } }),
    ).rejects.toMatchObject({ error: 'AccountTakedown' })
    const anon = agentFor().com.atproto
    await expect(anon.sync.getRepo({ did })).rejects.toMatchObject({ error: 'RepoTakendown' })
    await expect(anon.sync.getLatestCommit({ did })).rejects.toMatchObject({ error: 'RepoTakendown' })
    await expect(anon.repo.getRecord({ repo: did, collection: 'app.test.post', rkey })).rejects.toMatchObject(
      {
        error: 'RepoTakendown',
      },
    )
    expect((await anon.sync.getRepoStatus({ did })).data).toMatchObject({
      active: false,
      status: 'takendown',
    })
    const status = await agentFor().com.atproto.admin.getSubjectStatus({ did }, admin)
    expect(status.data.takedown).toEqual({ applied: true, ref: 'TICKET-1' })
    expect((await eventsOf(did, 'account')).at(-1)).toMatchObject({ active: false, status: 'takendown' })

    await agentFor().com.atproto.admin.updateSubjectStatus(
      { subject: repoRef(did), takedown: { applied: false } },
      admin,
    )
    expect((await eventsOf(did, 'account')).at(-1)).toMatchObject({ active: true })
    expect((await eventsOf(did, 'account')).at(-1)?.status).toBeUndefined()
    const back = agentFor()
    await back.login({ identifier: handle, password: 'password-1' })
    await back.com.atproto.repo.createRecord({ repo: did, collection: 'app.test.post', record: { a: 3 } })
    expect((await anon.repo.getRecord({ repo: did, collection: 'app.test.post', rkey })).data.uri).toBe(
      post.data.uri,
    )
    expect((await agentFor().com.atproto.admin.getSubjectStatus({ did }, admin)).data.takedown).toEqual({
      applied: false,
    })
  })

  it('hides a taken-down record from getRecord and listRecords until reversed', async () => {
    const { agent, did } = await newAccount()
    const made = []
    for (let i = 0; i < 3; i++) {
      made.push(
        (await agent.com.atproto.repo.createRecord({ repo: did, collection: 'app.test.post', record: { i } }))
          .data,
      )
    }
    const target = made[1]!
    const rkey = target.uri.split('/').pop()!
    const subject = { $type: 'com.atproto.repo.strongRef', uri: target.uri, cid: target.cid }
    await agentFor().com.atproto.admin.updateSubjectStatus(
      { subject, takedown: { applied: true, ref: 'spam' } },
      admin,
    )
    const anon = agentFor().com.atproto.repo
    await expect(anon.getRecord({ repo: did, collection: 'app.test.post', rkey })).rejects.toMatchObject({
      error: 'RecordNotFound',
    })
    const listed = await anon.listRecords({ repo: did, collection: 'app.test.post' })
    expect(listed.data.records.map((r) => r.uri).sort()).toEqual([made[0]!.uri, made[2]!.uri].sort())
    expect(
      (await agentFor().com.atproto.admin.getSubjectStatus({ uri: target.uri }, admin)).data,
    ).toMatchObject({
      subject: { uri: target.uri, cid: target.cid },
      takedown: { applied: true, ref: 'spam' },
    })
    await agentFor().com.atproto.admin.updateSubjectStatus({ subject, takedown: { applied: false } }, admin)
    expect((await anon.getRecord({ repo: did, collection: 'app.test.post', rkey })).data.cid).toBe(target.cid)
    expect((await anon.listRecords({ repo: did, collection: 'app.test.post' })).data.records).toHaveLength(3)
  })

  it('stops serving a taken-down blob until reversed', async () => {
    const { agent, did } = await newAccount()
    const bytes = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 9, 9])
    const blob = (await agent.uploadBlob(bytes, { encoding: 'image/png' })).data.blob
    await agent.com.atproto.repo.createRecord({
      repo: did,
      collection: 'app.test.photo',
      record: { $type: 'app.test.photo', image: blob },
    })
    const cid = blob.ref.toString()
    const subject = { $type: 'com.atproto.admin.defs#repoBlobRef', did, cid }
    await agentFor().com.atproto.admin.updateSubjectStatus(
      { subject, takedown: { applied: true, ref: 'csam' } },
      admin,
    )
    await expect(agentFor().com.atproto.sync.getBlob({ did, cid })).rejects.toMatchObject({
      error: 'BlobNotFound',
    })
    expect(
      (await agentFor().com.atproto.admin.getSubjectStatus({ did, blob: cid }, admin)).data.takedown,
    ).toEqual({
      applied: true,
      ref: 'csam',
    })
    await agentFor().com.atproto.admin.updateSubjectStatus({ subject, takedown: { applied: false } }, admin)
    expect(new Uint8Array((await agentFor().com.atproto.sync.getBlob({ did, cid })).data)).toEqual(bytes)
  })

  it('refuses unknown subjects and malformed input', async () => {
    const { did } = await newAccount()
    const update = (body: unknown) => agentFor().com.atproto.admin.updateSubjectStatus(body as never, admin)
    await expect(
      update({ subject: repoRef('did:plc:nobody'), takedown: { applied: true } }),
    ).rejects.toMatchObject({
      status: 400,
    })
    const missingBlob = 'bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy'
    await expect(
      update({
        subject: { $type: 'com.atproto.admin.defs#repoBlobRef', did, cid: missingBlob },
        takedown: { applied: true },
      }),
    ).rejects.toMatchObject({ status: 400, error: 'BlobNotFound' })
    await expect(
      update({ subject: { $type: 'app.nope', did }, takedown: { applied: true } }),
    ).rejects.toMatchObject({
      status: 400,
    })
    await expect(update({ subject: repoRef(did), takedown: { applied: 'yes' } })).rejects.toMatchObject({
      status: 400,
    })
    expect((await agentFor().com.atproto.sync.getRepoStatus({ did })).data.active).toBe(true)
  })
})

describe('createReport', () => {
  const report = (did: string) => ({
    reasonType: 'com.atproto.moderation.defs#reasonSpam',
    reason: 'spam links',
    subject: { $type: 'com.atproto.admin.defs#repoRef', did },
  })

  it('forwards the report to the configured moderation service with a service-auth token of the reporter', async () => {
    const { agent, did } = await newAccount()
    const res = await agent.com.atproto.moderation.createReport(report('did:plc:someoneelse'))
    expect(res.data).toMatchObject({
      reasonType: 'com.atproto.moderation.defs#reasonSpam',
      id: reports.length,
    })
    const got = reports.at(-1)!
    expect(got.url).toBe('/xrpc/com.atproto.moderation.createReport')
    expect(got.body).toEqual(report('did:plc:someoneelse'))
    const [h, p, s] = got.authorization!.replace(/^Bearer /, '').split('.')
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString())
    expect(claims).toMatchObject({
      iss: did,
      aud: 'did:plc:moderationservice#atproto_labeler',
      lxm: 'com.atproto.moderation.createReport',
    })
    const doc = (await agentFor().com.atproto.repo.describeRepo({ repo: did })).data.didDoc as {
      verificationMethod: Array<{ publicKeyMultibase: string }>
    }
    const didKey = `did:key:${doc.verificationMethod[0]!.publicKeyMultibase}`
    expect(
      await verifySignature(didKey, new TextEncoder().encode(`${h}.${p}`), Buffer.from(s!, 'base64url')),
    ).toBe(true)
  })

  it('refuses anonymous reports, other services, and answers 501 without a configured service', async () => {
    const before = reports.length
    await expect(agentFor().com.atproto.moderation.createReport(report('did:plc:x'))).rejects.toMatchObject({
      status: 401,
    })
    const { agent } = await newAccount()
    await expect(
      agent.com.atproto.moderation.createReport(report('did:plc:x'), {
        headers: { 'atproto-proxy': 'did:plc:elsewhere#atproto_labeler' },
      }),
    ).rejects.toMatchObject({ status: 400 })
    expect(reports.length).toBe(before)

    const bare = makeApp()
    const bareAgent = agentFor(bare.app)
    await bareAgent.createAccount({ handle: 'reporter.test', password: 'password-1' })
    await expect(bareAgent.com.atproto.moderation.createReport(report('did:plc:x'))).rejects.toMatchObject({
      status: 501,
    })
  })
})
