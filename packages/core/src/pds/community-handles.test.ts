// Community handles on three domains of one app, for local accounts and for a member hosted on another
// PDS; every handle checked both ways by @atproto/identity and by our resolver (HTTP well-known on
// loopback, names mapped to ports).
import dns from 'node:dns/promises'
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
import { COMMUNITY_HANDLE_NSIDS, HandleHostCache, revokeCommunityHandle } from './community-handles.js'

let plc: TestServer
let C: TestPds // the community app: three handle domains
let M: TestPds // another PDS, where the member's account lives
const realFetch = globalThis.fetch
const realTxt = dns.resolveTxt

const COMMUNITY = ['.one.test', '.two.test', 'three.test'] // `three.test` also gives the bare domain
const portFor = (host: string): number | undefined => {
  if (host.endsWith('.one.test') || host.endsWith('.two.test') || host === 'three.test') return C.port
  if (host.endsWith('.three.test')) return C.port
  if (host.endsWith('.m.test')) return M.port
  return undefined
}

beforeAll(async () => {
  const directory = createPlcDirectory({ store: new MemoryPlcStore(), rateLimit: false })
  plc = await startHttpServer(toNodeHandler({ fetch: (r) => directory.fetch(r), owns: () => true }))
  C = await startTestPds({
    handleDomains: COMMUNITY,
    reservedHandles: ['moderator', 'staff'],
    handleLength: { min: 2, max: 10 },
    communityHandles: { perDid: 2 },
    plcUrl: plc.url,
    identity: loopbackIdentity(portFor),
  })
  M = await startTestPds({ handleDomains: ['.m.test'], plcUrl: plc.url, identity: loopbackIdentity(portFor) })
  globalThis.fetch = hostRoutedFetch(portFor, realFetch)
  ;(dns as { resolveTxt: unknown }).resolveTxt = noTxt
})
afterAll(async () => {
  globalThis.fetch = realFetch
  ;(dns as { resolveTxt: unknown }).resolveTxt = realTxt
  await Promise.all([C?.close(), M?.close(), plc?.close()])
})

/** Both resolvers, fresh: the DID document claims `handle` and `handle` resolves to the DID. */
async function expectHandle(did: string, handle: string) {
  const theirs = new IdResolver({ plcUrl: plc.url })
  expect(await theirs.handle.resolve(handle)).toBe(did)
  expect((await theirs.did.resolveAtprotoData(did, true)).handle).toBe(handle)
  const ours = new IdentityResolver({ plcUrl: plc.url, ...loopbackIdentity(portFor) })
  expect(await ours.resolveIdentity(handle)).toMatchObject({ did, handle })
  expect(await ours.resolveIdentity(did)).toMatchObject({ did, handle })
}

/** GET https://<host>/.well-known/atproto-did, routed to the app's port with that Host. */
async function wellKnown(host: string) {
  const res = await hostRoutedFetch(portFor)(`https://${host}/.well-known/atproto-did`)
  return { status: res.status, text: (await res.text()).trim() }
}

/** Call a community procedure with a service-auth token the member's own PDS issues. */
async function asMember(
  agent: ReturnType<TestPds['agent']>,
  nsid: string,
  body: unknown,
  aud = C.context.serviceDid,
) {
  const { data } = await agent.com.atproto.server.getServiceAuth({ aud, lxm: nsid })
  return withToken(data.token, nsid, body)
}

/** Call a community procedure with a given service-auth token. */
async function withToken(token: string, nsid: string, body: unknown) {
  const res = await realFetch(`${C.url}/xrpc/${nsid}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  })
  return { status: res.status, body: (await res.json().catch(() => null)) as Record<string, unknown> | null }
}

describe('community handles on three domains', () => {
  it('serves local accounts on each domain, subdomain and bare, both ways', async () => {
    for (const handle of ['alice.one.test', 'bob.two.test', 'cy.three.test', 'three.test']) {
      const agent = C.agent()
      const { data } = await agent.createAccount({ handle, password: 'password-1' })
      expect(await wellKnown(handle)).toEqual({ status: 200, text: data.did })
      await expectHandle(data.did, handle)
    }
    expect((await wellKnown('nobody.one.test')).status).toBe(404)
    expect((await wellKnown('alice.m.test')).status).toBe(404) // not a community domain: M answers
  })

  it('refuses reserved names and lengths outside the configured bounds', async () => {
    for (const [handle, error] of [
      ['moderator.one.test', 'HandleNotAvailable'],
      ['staff.three.test', 'HandleNotAvailable'],
      ['a.two.test', 'InvalidHandle'],
      ['abcdefghijk.one.test', 'InvalidHandle'],
      ['x.y.one.test', 'InvalidHandle'],
    ]) {
      await expect(C.agent().createAccount({ handle, password: 'password-1' })).rejects.toMatchObject({
        status: 400,
        error,
      })
    }
  })

  it('accepts a proof once: the same token again (any handle in the body) is refused', async () => {
    const member = M.agent()
    const { data } = await member.createAccount({ handle: 'rex.m.test', password: 'password-1' })
    const nsid = COMMUNITY_HANDLE_NSIDS.register
    const { token } = (
      await member.com.atproto.server.getServiceAuth({ aud: C.context.serviceDid, lxm: nsid })
    ).data
    expect(await withToken(token, nsid, { handle: 'rex.one.test' })).toMatchObject({
      status: 200,
      body: { handle: 'rex.one.test', did: data.did },
    })
    expect(await withToken(token, nsid, { handle: 'rex.two.test' })).toMatchObject({
      status: 401,
      body: { error: 'BadJwt', message: 'jwt replayed' },
    })
    expect((await wellKnown('rex.two.test')).status).toBe(404)
    // A fresh proof still works.
    expect((await asMember(member, nsid, { handle: 'rex.two.test' })).status).toBe(200)
  })

  it('gives a member of another PDS a handle, which the member switches to; then revokes it', async () => {
    const member = M.agent()
    const { data } = await member.createAccount({ handle: 'mel.m.test', password: 'password-1' })
    const did = data.did
    await expectHandle(did, 'mel.m.test')

    // Proof is required, addressed to the community, for this procedure; reserved names are refused.
    const noAuth = await realFetch(`${C.url}/xrpc/${COMMUNITY_HANDLE_NSIDS.register}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ handle: 'mel.two.test' }),
    })
    expect(noAuth.status).toBe(401)
    expect(
      (
        await asMember(
          member,
          COMMUNITY_HANDLE_NSIDS.register,
          { handle: 'mel.two.test' },
          M.context.serviceDid,
        )
      ).status,
    ).toBe(401)
    expect(
      await asMember(member, COMMUNITY_HANDLE_NSIDS.register, { handle: 'moderator.two.test' }),
    ).toMatchObject({
      status: 400,
      body: { error: 'HandleNotAvailable' },
    })
    expect(
      await asMember(member, COMMUNITY_HANDLE_NSIDS.register, { handle: 'alice.one.test' }),
    ).toMatchObject({
      status: 400,
      body: { error: 'HandleNotAvailable' },
    })
    for (const [body, error] of [
      [{ handle: 42 }, 'InvalidRequest'],
      [{}, 'InvalidRequest'],
      [{ handle: 'not a handle' }, 'InvalidRequest'], // the lexicon's handle format, checked before the handler
      [{ handle: 'mel.elsewhere.test' }, 'UnsupportedDomain'],
    ] as const) {
      expect(await asMember(member, COMMUNITY_HANDLE_NSIDS.register, body)).toMatchObject({
        status: 400,
        body: { error },
      })
    }
    expect(await asMember(member, COMMUNITY_HANDLE_NSIDS.register, { handle: 'mel.two.test' })).toMatchObject(
      {
        status: 200,
        body: { handle: 'mel.two.test', did },
      },
    )
    expect(await wellKnown('Mel.Two.Test')).toEqual({ status: 200, text: did })
    // The handle is now the member's: no local account may take it.
    await expect(
      C.agent().createAccount({ handle: 'mel.two.test', password: 'password-1' }),
    ).rejects.toMatchObject({
      error: 'HandleNotAvailable',
    })

    // resolveHandle answers it on the community (storage) and on the member's PDS (network).
    for (const pds of [C, M]) {
      expect(
        (await pds.agent().com.atproto.identity.resolveHandle({ handle: 'mel.two.test' })).data.did,
      ).toBe(did)
    }
    // The member's own PDS checks the handle resolves to the DID, then updates the DID document.
    await member.com.atproto.identity.updateHandle({ handle: 'mel.two.test' })
    await expectHandle(did, 'mel.two.test')

    // A handle that does not point at the member is refused by M.
    await expect(member.com.atproto.identity.updateHandle({ handle: 'bob.two.test' })).rejects.toMatchObject({
      status: 400,
      error: 'InvalidHandle',
    })

    // The community revokes: the well-known answer goes at once (the host cache is invalidated), and
    // resolvers no longer verify the handle.
    expect(await revokeCommunityHandle(C.context, 'mel.two.test')).toBe(true)
    expect((await wellKnown('mel.two.test')).status).toBe(404)
    const ours = new IdentityResolver({ plcUrl: plc.url, ...loopbackIdentity(portFor) })
    expect((await ours.resolveIdentity(did)).handle).toBe('handle.invalid')
    expect(await new IdResolver({ plcUrl: plc.url }).handle.resolve('mel.two.test')).toBeUndefined()

    // The member may register again and revoke it themselves.
    expect((await asMember(member, COMMUNITY_HANDLE_NSIDS.register, { handle: 'mel.one.test' })).status).toBe(
      200,
    )
    expect((await wellKnown('mel.one.test')).text).toBe(did)
    expect(
      (await asMember(member, COMMUNITY_HANDLE_NSIDS.register, { handle: 'mel.three.test' })).status,
    ).toBe(200)
    expect(
      await asMember(member, COMMUNITY_HANDLE_NSIDS.register, { handle: 'mel3.one.test' }),
    ).toMatchObject({
      status: 400,
      body: { message: 'At most 2 community handles per DID' },
    })
    const other = M.agent()
    await other.createAccount({ handle: 'oscar.m.test', password: 'password-1' })
    expect(await asMember(other, COMMUNITY_HANDLE_NSIDS.revoke, { handle: 'mel.one.test' })).toMatchObject({
      status: 400,
      body: { error: 'HandleNotFound' },
    })
    expect((await asMember(member, COMMUNITY_HANDLE_NSIDS.revoke, { handle: 'mel.one.test' })).status).toBe(
      200,
    )
    expect((await wellKnown('mel.one.test')).status).toBe(404)
  })
})

describe('HandleHostCache', () => {
  it('answers from memory within the TTL, shares concurrent misses, and forgets on invalidate', async () => {
    let now = 0
    let calls = 0
    const answers = new Map([['a.test', 'did:plc:a']])
    const cache = new HandleHostCache(
      async (host) => {
        calls++
        await new Promise((r) => setTimeout(r, 5))
        return answers.get(host) ?? null
      },
      { ttlMs: 1000, negativeTtlMs: 100, now: () => now },
    )
    expect(await Promise.all([cache.get('A.test'), cache.get('a.test'), cache.get('a.test')])).toEqual([
      'did:plc:a',
      'did:plc:a',
      'did:plc:a',
    ])
    expect(calls).toBe(1)
    expect(await cache.get('none.test')).toBeNull() // misses are cached too, briefly
    expect(await cache.get('none.test')).toBeNull()
    expect(calls).toBe(2)
    answers.set('none.test', 'did:plc:new')
    now = 101
    expect(await cache.get('none.test')).toBe('did:plc:new')
    expect(calls).toBe(3)
    answers.set('a.test', 'did:plc:b')
    now = 999
    expect(await cache.get('a.test')).toBe('did:plc:a') // within the TTL: the trade-off
    now = 1001
    expect(await cache.get('a.test')).toBe('did:plc:b')
    answers.set('a.test', 'did:plc:c')
    cache.invalidate('a.test')
    expect(await cache.get('a.test')).toBe('did:plc:c')
    expect(calls).toBe(5)
  })
})
