// did:plc, hosted did:web and bring-your-own did:web accounts, and a did:plc migration between two PDS
// instances through the PLC endpoints; every account checked by @atproto/identity and by our resolver.

import { randomUUID } from 'node:crypto'
import dns from 'node:dns/promises'
import type { AtpAgent } from '@atproto/api'
import { Secp256k1Keypair } from '@atproto/crypto'
import { IdResolver } from '@atproto/identity'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { IdentityResolver } from '../identity/identity-resolver.js'
import {
  hostRoutedFetch,
  loopbackIdentity,
  noTxt,
  startTestPds,
  type TestPds,
} from '../identity/test-network.js'
import { startHttpServer, type TestServer } from '../identity/test-servers.js'
import { toNodeHandler } from '../node/to-node-handler.js'
import { createPlcDirectory } from '../plc/directory.js'
import { MemoryPlcStore } from '../plc/store.js'

// @atproto/identity resolves `/${did}` against the PLC URL's origin, so the directory sits at a root.
let plc: TestServer
let A: TestPds // hosts did:plc accounts and did:web documents
let B: TestPds // a second PDS (migration target)
let hosted: TestServer // another "domain" of A: serves hosted did:web documents by Host
let own: TestServer // the user's own web server, for a bring-your-own did:web
let ownDoc: unknown = null
const realFetch = globalThis.fetch
const realTxt = dns.resolveTxt

const portFor = (host: string): number | undefined =>
  host.endsWith('.a.test') ? A.port : host.endsWith('.b.test') ? B.port : undefined

beforeAll(async () => {
  let hostedHost = ''
  const directory = createPlcDirectory({ store: new MemoryPlcStore(), rateLimit: false })
  plc = await startHttpServer(toNodeHandler({ fetch: (r) => directory.fetch(r), owns: () => true }))
  A = await startTestPds({
    handleDomains: ['.a.test'],
    plcUrl: plc.url,
    hostedDidWeb: (host) => host === hostedHost,
    identity: loopbackIdentity(portFor),
  })
  B = await startTestPds({
    handleDomains: ['.b.test'],
    plcUrl: plc.url,
    identity: loopbackIdentity(portFor),
  })
  hosted = await startHttpServer(toNodeHandler({ fetch: (r) => A.app.fetch(r), owns: () => true }))
  hostedHost = `localhost:${hosted.port}`
  own = await startHttpServer((req, res) => {
    if (req.url !== '/.well-known/did.json' || !ownDoc) return res.writeHead(404).end()
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(ownDoc))
  })
  // The reference resolver reads handles from https://<handle>/ and DNS: route both to loopback.
  globalThis.fetch = hostRoutedFetch(portFor, realFetch)
  ;(dns as { resolveTxt: unknown }).resolveTxt = noTxt
})
afterAll(async () => {
  globalThis.fetch = realFetch
  ;(dns as { resolveTxt: unknown }).resolveTxt = realTxt
  await Promise.all([A?.close(), B?.close(), hosted?.close(), own?.close(), plc?.close()])
})

/** Both resolvers, fresh each time (no cache between steps). */
async function expectResolves(did: string, handle: string, pds: string) {
  const theirs = new IdResolver({ plcUrl: plc.url })
  const data = await theirs.did.resolveAtprotoData(did, true)
  expect(data).toMatchObject({ did, handle, pds })
  expect(await theirs.handle.resolve(handle)).toBe(did)
  const ours = new IdentityResolver({ plcUrl: plc.url, ...loopbackIdentity(portFor) })
  for (const input of [did, handle]) {
    expect(await ours.resolveIdentity(input)).toMatchObject({
      did,
      handle,
      pdsUrl: pds,
      signingKey: data.signingKey,
    })
  }
  return data
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
/** A service-auth JWT made by hand, as any client holding the DID's key could. */
async function jwt(key: Secp256k1Keypair, claims: Record<string, unknown>) {
  const now = Math.floor(Date.now() / 1000)
  const head = `${b64({ typ: 'JWT', alg: 'ES256K' })}.${b64({ iat: now, exp: now + 60, jti: randomUUID(), ...claims })}`
  const sig = await key.sign(new TextEncoder().encode(head))
  return `${head}.${Buffer.from(sig).toString('base64url')}`
}

const signIn = async (pds: TestPds, identifier: string): Promise<AtpAgent> => {
  const agent = pds.agent()
  await agent.login({ identifier, password: 'password-1' })
  return agent
}

describe('did:plc accounts', () => {
  it('resolve through our PLC directory, handles verified both ways', async () => {
    const agent = A.agent()
    const { data } = await agent.createAccount({ handle: 'alice.a.test', password: 'password-1' })
    expect(data.did).toMatch(/^did:plc:/)
    const resolved = await expectResolves(data.did, 'alice.a.test', A.url)
    const creds = await agent.com.atproto.identity.getRecommendedDidCredentials()
    expect(resolved.signingKey).toBe(creds.data.verificationMethods?.atproto)
  })
})

describe('hosted did:web', () => {
  it('is created without proof, served by Host, and follows handle changes', async () => {
    const did = `did:web:localhost%3A${hosted.port}`
    const agent = A.agent()
    const { data } = await agent.createAccount({ handle: 'carol.a.test', did, password: 'password-1' })
    expect(data.did).toBe(did)
    expect((await agent.com.atproto.server.getSession()).data.active).toBe(true)
    await expectResolves(did, 'carol.a.test', A.url)
    await agent.com.atproto.identity.updateHandle({ handle: 'carol2.a.test' })
    await expectResolves(did, 'carol2.a.test', A.url)
    // The app's own host serves the service DID, not an account.
    const service = await (await realFetch(`${A.url}/.well-known/did.json`)).json()
    expect(service).toMatchObject({ id: A.context.serviceDid })
    expect((await realFetch(`http://127.0.0.1:${hosted.port}/.well-known/did.json`)).status).toBe(404)
  })

  it('with hostedDidWeb: true, is did:web:<handle> and keeps being served after a handle change', async () => {
    const W = await startTestPds({ handleDomains: ['.w.test'], hostedDidWeb: true, plcUrl: plc.url })
    try {
      const did = 'did:web:zed.w.test'
      const wrong = W.agent().createAccount({ handle: 'zed2.w.test', did, password: 'password-1' })
      await expect(wrong).rejects.toMatchObject({ status: 400, error: 'IncompatibleDidDoc' })
      const agent = W.agent()
      await agent.createAccount({ handle: 'zed.w.test', did, password: 'password-1' })
      await agent.com.atproto.identity.updateHandle({ handle: 'zed3.w.test' })
      const get = hostRoutedFetch((h) => (h.endsWith('.w.test') ? W.port : undefined))
      const res = await get('https://zed.w.test/.well-known/did.json')
      expect(res.status).toBe(200)
      const doc = await res.json()
      expect(doc).toMatchObject({ id: did, alsoKnownAs: ['at://zed3.w.test'] })
      expect(doc.service[0].serviceEndpoint).toBe(W.url)
      expect((await get('https://zed3.w.test/.well-known/did.json')).status).toBe(404)
    } finally {
      await W.close()
    }
  })

  it('is not handed out for a host the app does not host', async () => {
    const err = await A.agent()
      .createAccount({ handle: 'mallory.a.test', did: 'did:web:elsewhere.test', password: 'password-1' })
      .catch((e) => e)
    expect(err).toMatchObject({ status: 401, error: 'AuthMissing' })
    // Only the canonical spelling of a hosted DID (documents are found by the Host's DID).
    const upper = `did:web:LOCALHOST%3A${hosted.port}`
    await expect(
      A.agent().createAccount({ handle: 'upper.a.test', did: upper, password: 'password-1' }),
    ).rejects.toMatchObject({ status: 401, error: 'AuthMissing' })
  })
})

describe('bring-your-own did:web', () => {
  it('needs a service-auth proof, starts deactivated, activates once the document points here', async () => {
    const key = await Secp256k1Keypair.create()
    const did = `did:web:localhost%3A${own.port}`
    const docFor = (signing: string, pds: string, handle: string) => ({
      '@context': ['https://www.w3.org/ns/did/v1'],
      id: did,
      alsoKnownAs: [`at://${handle}`],
      verificationMethod: [
        { id: `${did}#atproto`, type: 'Multikey', controller: did, publicKeyMultibase: signing.slice(8) },
      ],
      service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: pds }],
    })
    ownDoc = docFor(key.did(), 'https://old.pds.test', 'dave.a.test')
    const input = { handle: 'dave.a.test', did, password: 'password-1', email: 'dave@mail.test' }
    const create = (token?: string) =>
      A.agent().com.atproto.server.createAccount(input, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      })
    const claims = { iss: did, aud: A.context.serviceDid, lxm: 'com.atproto.server.createAccount' }
    const other = await Secp256k1Keypair.create()
    for (const [token, error] of [
      [undefined, 'AuthMissing'],
      [await jwt(key, { ...claims, lxm: 'com.atproto.repo.createRecord' }), 'BadJwtLexiconMethod'],
      [await jwt(key, { ...claims, aud: B.context.serviceDid }), 'BadJwtAudience'],
      [await jwt(other, claims), 'BadJwtSignature'],
    ] as const) {
      await expect(create(token)).rejects.toMatchObject({ status: 401, error })
    }
    const { data } = await create(await jwt(key, claims))
    expect(data.did).toBe(did)
    const agent = await signIn(A, 'dave.a.test')
    expect((await agent.com.atproto.server.getSession()).data).toMatchObject({ active: false })
    await expect(agent.com.atproto.server.activateAccount()).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/atproto_pds/),
    })
    const creds = (await agent.com.atproto.identity.getRecommendedDidCredentials()).data
    ownDoc = docFor(creds.verificationMethods!.atproto as string, A.url, 'dave.a.test')
    await agent.com.atproto.server.activateAccount()
    expect((await agent.com.atproto.server.getSession()).data.active).toBe(true)
    await expectResolves(did, 'dave.a.test', A.url)
    // The user's key no longer proves control: the document now names the PDS's key.
    await expect(
      A.agent().com.atproto.server.createAccount(
        { ...input, handle: 'dave2.a.test', email: undefined },
        { headers: { authorization: `Bearer ${await jwt(key, claims)}` } },
      ),
    ).rejects.toMatchObject({ status: 401, error: 'BadJwtSignature' })
  })
})

describe('PLC endpoints: migrating a did:plc account from A to B', () => {
  it('signs with an emailed token on A, submits on B, and both resolvers follow', async () => {
    const onA = A.agent()
    const { data } = await onA.createAccount({
      handle: 'erin.a.test',
      password: 'password-1',
      email: 'erin@mail.test',
    })
    const did = data.did
    // B: the account with the existing DID, proven by a service-auth token from A.
    const proof = await onA.com.atproto.server.getServiceAuth({
      aud: B.context.serviceDid,
      lxm: 'com.atproto.server.createAccount',
    })
    await B.agent().com.atproto.server.createAccount(
      { handle: 'erin.b.test', did, password: 'password-1' },
      { headers: { authorization: `Bearer ${proof.data.token}` } },
    )
    const onB = await signIn(B, 'erin.b.test')
    expect((await onB.com.atproto.server.getSession()).data.active).toBe(false)
    const creds = (await onB.com.atproto.identity.getRecommendedDidCredentials()).data
    expect(creds).toMatchObject({
      alsoKnownAs: ['at://erin.b.test'],
      services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: B.url } },
    })

    // A signs only with the emailed token.
    await expect(onA.com.atproto.identity.signPlcOperation({ ...creds })).rejects.toMatchObject({
      status: 400,
    })
    await expect(
      onA.com.atproto.identity.signPlcOperation({ ...creds, token: 'AAAAA-BBBBB' }),
    ).rejects.toMatchObject({ status: 400, error: 'InvalidToken' })
    await onA.com.atproto.identity.requestPlcOperationSignature()
    const mail = A.mail.findLast((m) => m.to === 'erin@mail.test')!
    const token = /([A-Z0-9]{5}-[A-Z0-9]{5})/.exec(mail.text)![1]!
    const { operation } = (await onA.com.atproto.identity.signPlcOperation({ ...creds, token })).data
    // The token is single-use.
    await expect(onA.com.atproto.identity.signPlcOperation({ ...creds, token })).rejects.toMatchObject({
      error: 'InvalidToken',
    })

    // A refuses to submit an operation that moves the account away from A; B refuses a tampered one.
    await expect(onA.com.atproto.identity.submitPlcOperation({ operation })).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/server's rotation key/),
    })
    const wrongKey = {
      ...(operation as object),
      verificationMethods: { atproto: (await Secp256k1Keypair.create()).did() },
    }
    await expect(onB.com.atproto.identity.submitPlcOperation({ operation: wrongKey })).rejects.toMatchObject({
      status: 400,
      message: 'Incorrect signing key',
    })
    await expect(
      onB.com.atproto.identity.submitPlcOperation({ operation: { type: 'plc_operation' } }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/Invalid operation/) })

    const before = (await B.storage.sequencer.latest()) ?? 0
    await onB.com.atproto.identity.submitPlcOperation({ operation })
    const events = await B.storage.sequencer.range({ after: before, limit: 10 })
    expect(events.map((e) => [e.type, e.did])).toContainEqual(['identity', did])
    await onB.com.atproto.server.activateAccount()
    await onA.com.atproto.server.deactivateAccount({})
    await expectResolves(did, 'erin.b.test', B.url)
  })

  it('refuses the PLC endpoints to a did:web account', async () => {
    const agent = await signIn(A, 'carol2.a.test')
    await expect(agent.com.atproto.identity.requestPlcOperationSignature()).rejects.toMatchObject({
      status: 400,
    })
  })
})
