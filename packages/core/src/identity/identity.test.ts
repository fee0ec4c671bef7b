import dns from 'node:dns/promises'
import { P256Keypair, Secp256k1Keypair } from '@atproto/crypto'
import * as ref from '@atproto/identity'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { toNodeHandler } from '../node/to-node-handler.js'
import { PlcClient } from '../plc/client.js'
import { createPlcDirectory } from '../plc/directory.js'
import { createGenesisOp, createTombstoneOp } from '../plc/operations.js'
import { MemoryPlcStore } from '../plc/store.js'
import { MemoryIdentityCache } from './cache.js'
import { DidResolver } from './did-resolver.js'
import {
  DidNotFoundError,
  HandleNotFoundError,
  IdentityResolutionError,
  InvalidHandleError,
  PoorlyFormattedDidError,
  UnsupportedDidMethodError,
} from './errors.js'
import { HandleResolver } from './handle-resolver.js'
import { IdentityResolver } from './identity-resolver.js'
import { SsrfBlockedError } from './safe-fetch-errors.js'
import { startHttpServer, type TestServer } from './test-servers.js'

let plc: TestServer
let web: TestServer
let wk: TestServer
let webHits = 0
let webDoc: unknown
const wellKnown = new Map<string, string>() // handle -> body
const txt = new Map<string, string[][]>()
const resolveTxt = async (name: string) => {
  const r = txt.get(name)
  if (!r) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' })
  return r
}
// *.test names map to loopback; a few names map to internal ranges.
const lookup = async (host: string) => {
  if (host.startsWith('internal.')) return [{ address: '10.0.0.5', family: 4 }]
  if (host.startsWith('meta.')) return [{ address: '169.254.169.254', family: 4 }]
  if (host.startsWith('v6.')) return [{ address: '::1', family: 6 }]
  return [{ address: '127.0.0.1', family: 4 }]
}

let alice: { did: string; signing: Secp256k1Keypair }
const net = () => ({
  plcUrl: plc.url,
  resolveTxt,
  lookup,
  allowHttp: true,
  allowLoopback: true,
  wellKnownUrl: (h: string) => `http://${h}:${wk.port}/.well-known/atproto-did`,
})

beforeAll(async () => {
  const dir = createPlcDirectory({ store: new MemoryPlcStore(), rateLimit: false })
  plc = await startHttpServer(toNodeHandler({ fetch: (r) => dir.fetch(r), owns: () => true }))
  web = await startHttpServer((req, res) => {
    webHits++
    if (req.url !== '/.well-known/did.json') return res.writeHead(404).end()
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(webDoc))
  })
  wk = await startHttpServer((req, res) => {
    const host = (req.headers.host ?? '').split(':')[0]
    if (host === 'redirect.test') return res.writeHead(302, { location: 'http://169.254.169.254/' }).end()
    const body = wellKnown.get(host)
    if (req.url !== '/.well-known/atproto-did' || body === undefined) return res.writeHead(404).end()
    res.writeHead(200, { 'content-type': 'text/plain' }).end(body)
  })
  const rot = await Secp256k1Keypair.create()
  const signing = await Secp256k1Keypair.create()
  const g = await createGenesisOp({
    signingKey: signing.did(),
    handle: 'alice.test',
    pds: 'https://pds.test',
    rotationKeys: [rot.did()],
    signer: rot,
  })
  await new PlcClient(plc.url).sendOperation(g.did, g.op)
  alice = { did: g.did, signing }
  txt.set('_atproto.alice.test', [['did=', g.did], ['v=spf1 -all']])
})
afterAll(async () => {
  await Promise.all([plc?.close(), web?.close(), wk?.close()])
})

const webDid = () => `did:web:localhost%3A${web.port}`

describe('DID resolution', () => {
  it('did:plc matches @atproto/identity', async () => {
    const ours = new DidResolver(net())
    const theirs = new ref.DidResolver({ plcUrl: plc.url })
    expect(await ours.resolve(alice.did)).toEqual(await theirs.resolve(alice.did))
    expect(await ours.resolveAtprotoData(alice.did)).toEqual(await theirs.resolveAtprotoData(alice.did))
  })

  it('did:web (Multikey and legacy keys) matches @atproto/identity', async () => {
    const k = await P256Keypair.create({ exportable: true })
    const did = webDid()
    const { base58btc } = await import('multiformats/bases/base58')
    const { p256 } = await import('@noble/curves/nist.js')
    const { parseDidKey } = await import('@atproto/crypto')
    const uncompressed = p256.Point.fromBytes(parseDidKey(k.did()).keyBytes).toBytes(false)
    for (const vm of [
      { id: `${did}#atproto`, type: 'Multikey', controller: did, publicKeyMultibase: k.did().slice(8) },
      {
        id: '#atproto',
        type: 'EcdsaSecp256r1VerificationKey2019',
        controller: did,
        publicKeyMultibase: base58btc.encode(uncompressed),
      },
    ]) {
      webDoc = {
        '@context': ['https://www.w3.org/ns/did/v1'],
        id: did,
        alsoKnownAs: ['at://Web.Test'],
        verificationMethod: [vm],
        service: [
          { id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: 'https://pds.test' },
        ],
      }
      const ours = await new DidResolver(net()).resolveAtprotoData(did)
      const theirs = await new ref.DidResolver({}).resolveAtprotoData(did)
      expect(ours.signingKey).toBe(k.did())
      expect(ours).toEqual({ ...theirs, handle: 'web.test' }) // we lowercase the handle, per the spec
    }
  })

  it('refuses did:web pointing at internal addresses, paths, ports and bad ids', async () => {
    const strict = new DidResolver({ lookup })
    const blocked = async (did: string) => {
      const err = await strict.resolve(did).catch((e) => e)
      expect(err).toBeInstanceOf(IdentityResolutionError)
      expect(err.cause).toBeInstanceOf(SsrfBlockedError)
    }
    await blocked(webDid()) // localhost: loopback refused by default
    await blocked('did:web:internal.test')
    await blocked('did:web:meta.test')
    await blocked('did:web:v6.test')
    await expect(strict.resolve('did:web:example.com:user:alice')).rejects.toThrow(PoorlyFormattedDidError)
    await expect(strict.resolve('did:web:example.com%3A8080')).rejects.toThrow(PoorlyFormattedDidError)
    await expect(strict.resolve('did:web:10.0.0.1')).rejects.toThrow(PoorlyFormattedDidError)
    await expect(strict.resolve('did:key:zQ3shZc2QzApp2oymGvQbzP8eKheVshBHbU4ZYjeXqwSKEn6N')).rejects.toThrow(
      UnsupportedDidMethodError,
    )
    await expect(strict.resolve('did:plc:UPPER')).rejects.toThrow(PoorlyFormattedDidError)
  })

  it('reports unknown and tombstoned did:plc as DidNotFoundError', async () => {
    const r = new DidResolver(net())
    await expect(r.resolve('did:plc:aaaaaaaaaaaaaaaaaaaaaaaa')).rejects.toThrow(DidNotFoundError)
    const rot = await Secp256k1Keypair.create()
    const g = await createGenesisOp({
      signingKey: rot.did(),
      handle: 'x.test',
      pds: 'x',
      rotationKeys: [rot.did()],
      signer: rot,
    })
    const client = new PlcClient(plc.url)
    await client.sendOperation(g.did, g.op)
    await client.sendOperation(g.did, await createTombstoneOp(g.op, rot))
    await expect(r.resolve(g.did)).rejects.toMatchObject({ name: 'DidNotFoundError', deactivated: true })
  })

  it('caches with stale-while-revalidate', async () => {
    let now = 1_000_000
    webDoc = { id: webDid(), alsoKnownAs: ['at://one.test'] }
    const r = new DidResolver({ ...net(), cache: new MemoryIdentityCache(100, () => now), now: () => now })
    webHits = 0
    expect(getAka(await r.resolve(webDid()))).toBe('at://one.test')
    webDoc = { id: webDid(), alsoKnownAs: ['at://two.test'] }
    now += 30 * 60_000 // fresh
    expect(getAka(await r.resolve(webDid()))).toBe('at://one.test')
    expect(webHits).toBe(1)
    now += 60 * 60_000 // stale: served at once, refreshed behind
    expect(getAka(await r.resolve(webDid()))).toBe('at://one.test')
    await new Promise((res) => setTimeout(res, 100))
    expect(webHits).toBe(2)
    expect(getAka(await r.resolve(webDid()))).toBe('at://two.test')
    expect(getAka(await r.resolve(webDid(), { forceRefresh: true }))).toBe('at://two.test')
    expect(webHits).toBe(3)
    // concurrent misses share one request
    await Promise.all(Array.from({ length: 5 }, () => r.resolve(webDid(), { forceRefresh: true })))
    expect(webHits).toBe(4)
  })
})

const getAka = (d: { alsoKnownAs?: string[] }) => d.alsoKnownAs?.[0]

describe('handle resolution', () => {
  it('DNS TXT: exactly one did= record; matches @atproto/identity', async () => {
    const r = new HandleResolver(net())
    expect(await r.resolveDns('alice.test')).toBe(alice.did)
    txt.set('_atproto.two.test', [
      ['did=did:plc:aaaaaaaaaaaaaaaaaaaaaaaa'],
      ['did=did:plc:bbbbbbbbbbbbbbbbbbbbbbbb'],
    ])
    expect(await r.resolveDns('two.test')).toBeNull()
    expect(await r.resolveDns('none.test')).toBeNull()
    // differential: the reference reads node:dns directly, so route it through the same records
    const original = dns.resolveTxt
    ;(dns as any).resolveTxt = resolveTxt
    try {
      const theirs = new ref.HandleResolver({ timeout: 500 })
      for (const h of ['alice.test', 'two.test'])
        expect(await r.resolveDns(h)).toBe((await theirs.resolveDns(h)) ?? null)
    } finally {
      ;(dns as any).resolveTxt = original
    }
  })

  it('HTTPS well-known: first line trimmed; SSRF targets give no answer', async () => {
    const r = new HandleResolver(net())
    wellKnown.set('web.test', `  ${alice.did}  \nignored`)
    expect(await r.resolveHttp('web.test')).toBe(alice.did)
    wellKnown.set('junk.test', '<html>')
    expect(await r.resolveHttp('junk.test')).toBeNull()
    expect(await r.resolveHttp('redirect.test')).toBeNull()
    wellKnown.set('internal.test', alice.did)
    expect(await r.resolveHttp('internal.test')).toBeNull()
    const strict = new HandleResolver({ lookup, resolveTxt })
    expect(await strict.resolveHttp('web.test')).toBeNull() // loopback refused by default
  })

  it('prefers DNS when methods disagree, falls back to HTTPS', async () => {
    txt.set('_atproto.both.test', [['did=did:plc:aaaaaaaaaaaaaaaaaaaaaaaa']])
    wellKnown.set('both.test', 'did:plc:bbbbbbbbbbbbbbbbbbbbbbbb')
    wellKnown.set('httponly.test', 'did:plc:cccccccccccccccccccccccc')
    const r = new HandleResolver(net())
    expect(await r.resolve('Both.Test')).toBe('did:plc:aaaaaaaaaaaaaaaaaaaaaaaa')
    expect(await r.resolve('httponly.test')).toBe('did:plc:cccccccccccccccccccccccc')
    expect(await r.resolve('nothing.test')).toBeNull()
    await expect(r.resolve('laptop.local')).rejects.toThrow(InvalidHandleError)
    await expect(r.resolve('john..test')).rejects.toThrow(InvalidHandleError)
  })
})

describe('resolveIdentity', () => {
  it('verifies bidirectionally from a handle or a DID', async () => {
    const r = new IdentityResolver(net())
    for (const input of ['@Alice.Test', alice.did]) {
      const id = await r.resolveIdentity(input)
      expect(id).toMatchObject({
        did: alice.did,
        handle: 'alice.test',
        signingKey: alice.signing.did(),
        pdsUrl: 'https://pds.test',
      })
      expect(id.didDoc.id).toBe(alice.did)
    }
  })

  it('marks a handle that does not link back as handle.invalid', async () => {
    txt.set('_atproto.liar.test', [[`did=${alice.did}`]]) // claims alice, alice's doc does not claim it
    const r = new IdentityResolver(net())
    expect((await r.resolveIdentity('liar.test')).handle).toBe('handle.invalid')
    webDoc = { id: webDid(), alsoKnownAs: ['at://alice.test'] } // claims alice's handle
    expect((await r.resolveIdentity(webDid())).handle).toBe('handle.invalid')
    await expect(r.resolveIdentity('ghost.test')).rejects.toThrow(HandleNotFoundError)
    await expect(r.resolveIdentity('not a handle')).rejects.toThrow(InvalidHandleError)
  })
})
