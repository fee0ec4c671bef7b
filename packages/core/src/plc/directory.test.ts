import { P256Keypair, Secp256k1Keypair } from '@atproto/crypto'
import { DidResolver } from '@atproto/identity'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHttpServer, type TestServer } from '../identity/test-servers.js'
import { toNodeHandler } from '../node/to-node-handler.js'
import { PlcClient } from './client.js'
import { createPlcDirectory } from './directory.js'
import { PlcClientError } from './errors.js'
import {
  cidForOp,
  createAtprotoUpdateOp,
  createGenesisOp,
  createTombstoneOp,
  signPlcOperation,
} from './operations.js'
import { MemoryPlcStore } from './store.js'
import { PLC_RECOVERY_WINDOW_MS, validateAuditLog } from './validate.js'

const HOUR = 3_600_000
let clock = Date.parse('2025-01-01T00:00:00Z')
const tick = (ms = 1000) => (clock += ms)

let server: TestServer
let client: PlcClient
beforeAll(async () => {
  const dir = createPlcDirectory({
    store: new MemoryPlcStore(),
    now: () => new Date(clock),
    rateLimit: false,
  })
  server = await startHttpServer(toNodeHandler({ fetch: (r) => dir.fetch(r), owns: () => true }))
  client = new PlcClient(server.url)
})
afterAll(() => server?.close())

async function newAccount(handle = 'alice.test') {
  const rotation = [await Secp256k1Keypair.create(), await P256Keypair.create()]
  const signing = await Secp256k1Keypair.create()
  const g = await createGenesisOp({
    signingKey: signing.did(),
    handle,
    pds: 'https://pds.test',
    rotationKeys: rotation.map((k) => k.did()),
    signer: rotation[1],
  })
  tick()
  await client.sendOperation(g.did, g.op)
  return { ...g, rotation, signing }
}

const status = (p: Promise<unknown>) =>
  p.then(
    () => 200,
    (e) => (e instanceof PlcClientError ? e.status : -1),
  )

describe('PLC directory over loopback', () => {
  it('serves a created DID, resolvable by @atproto/identity', async () => {
    const acct = await newAccount()
    const doc = await client.getDocument(acct.did)
    expect(doc.id).toBe(acct.did)
    expect(doc.alsoKnownAs).toEqual(['at://alice.test'])
    expect(doc['@context']).toContain('https://w3id.org/security/suites/secp256k1-2019/v1')
    expect(doc.service).toEqual([
      { id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: 'https://pds.test' },
    ])
    const resolver = new DidResolver({ plcUrl: server.url })
    const data = await resolver.resolveAtprotoData(acct.did)
    expect(data).toEqual({
      did: acct.did,
      signingKey: acct.signing.did(),
      handle: 'alice.test',
      pds: 'https://pds.test',
    })
    expect(await client.getDocumentData(acct.did)).toMatchObject({
      rotationKeys: acct.rotation.map((k) => k.did()),
    })
    const raw = await fetch(`${server.url}/${acct.did}`)
    expect(raw.headers.get('content-type')).toBe('application/did+ld+json')
  })

  it('applies updates and key rotation; the old key loses power', async () => {
    const acct = await newAccount()
    const newRot = await Secp256k1Keypair.create()
    const op1 = await createAtprotoUpdateOp(acct.op, acct.rotation[0], {
      handle: 'bob.test',
      rotationKeys: [newRot.did()],
    })
    tick()
    await client.sendOperation(acct.did, op1)
    expect(await client.getLastOp(acct.did)).toEqual(op1)
    expect(await client.getOperationLog(acct.did)).toEqual([acct.op, op1])
    const stale = await createAtprotoUpdateOp(op1, acct.rotation[0], { handle: 'eve.test' })
    await expect(client.sendOperation(acct.did, stale)).rejects.toMatchObject({ status: 400 })
    const ok = await createAtprotoUpdateOp(op1, newRot, { pds: 'https://pds2.test' })
    tick()
    await client.sendOperation(acct.did, ok)
    expect((await client.getDocumentData(acct.did)).services.atproto_pds.endpoint).toBe('https://pds2.test')
    // resubmitting an accepted op is idempotent
    await client.sendOperation(acct.did, ok)
  })

  it('recovers within 72 h and refuses after; the audit log replays', async () => {
    const acct = await newAccount()
    const hijack = await createAtprotoUpdateOp(acct.op, acct.rotation[1], { pds: 'https://evil.test' })
    tick()
    await client.sendOperation(acct.did, hijack)
    const recovery = await createAtprotoUpdateOp(acct.op, acct.rotation[0], { pds: 'https://pds.test' })
    const saved = clock
    clock += PLC_RECOVERY_WINDOW_MS + 1
    const late = client.sendOperation(acct.did, recovery)
    await expect(late).rejects.toMatchObject({ status: 400, body: { code: 'LateRecovery' } })
    clock = saved + 71 * HOUR
    await client.sendOperation(acct.did, recovery)
    const audit = await client.getAuditableLog(acct.did)
    expect(audit.map((e) => e.nullified)).toEqual([false, true, false])
    expect(await validateAuditLog(acct.did, audit)).toMatchObject({ did: acct.did })
    expect(await client.getLastOp(acct.did)).toEqual(recovery)
  })

  it('tombstones: 410 on the document, further ops refused', async () => {
    const acct = await newAccount()
    const tomb = await createTombstoneOp(acct.op, acct.rotation[0])
    tick()
    await client.sendOperation(acct.did, tomb)
    expect(await status(client.getDocument(acct.did))).toBe(410)
    expect(await status(client.getDocumentData(acct.did))).toBe(410)
    expect(await client.getLastOp(acct.did)).toEqual(tomb)
    const after = await signPlcOperation({ type: 'plc_tombstone', prev: cidForOp(tomb) }, acct.rotation[0])
    await expect(client.sendOperation(acct.did, after)).rejects.toMatchObject({ status: 400 })
    expect(await new DidResolver({ plcUrl: server.url }).resolve(acct.did).catch((e) => e.status)).toBe(410)
  })

  it('answers 404 / 400 with JSON messages', async () => {
    const acct = await newAccount()
    expect(await status(client.getDocument('did:plc:aaaaaaaaaaaaaaaaaaaaaaaa'))).toBe(404)
    expect(await status(client.getAuditableLog('did:plc:aaaaaaaaaaaaaaaaaaaaaaaa'))).toBe(404)
    const forged = await createAtprotoUpdateOp(acct.op, await Secp256k1Keypair.create(), { handle: 'x.test' })
    await expect(client.sendOperation(acct.did, forged)).rejects.toMatchObject({
      status: 400,
      body: { code: 'InvalidSignature' },
    })
    const wrongPrev = await signPlcOperation(
      { ...(({ sig: _s, ...u }) => u)(forged), prev: cidForOp(forged) },
      acct.rotation[0],
    )
    await expect(client.sendOperation(acct.did, wrongPrev)).rejects.toMatchObject({
      body: { code: 'MisorderedOperation' },
    })
    const res = await fetch(`${server.url}/${acct.did}`, { method: 'POST', body: '{not json' })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ message: 'Body is not valid JSON' })
    // a genesis op posted under another DID fails the hash check
    const other = await newAccount('carol.test')
    const res2 = await fetch(`${server.url}/did:plc:bbbbbbbbbbbbbbbbbbbbbbbb`, {
      method: 'POST',
      body: JSON.stringify(other.op),
    })
    expect(await res2.json()).toMatchObject({ code: 'GenesisHash' })
  })

  it('serializes concurrent updates to one DID: exactly one wins', async () => {
    const acct = await newAccount()
    const ops = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        createAtprotoUpdateOp(acct.op, acct.rotation[1], { handle: `h${i}.test` }),
      ),
    )
    tick()
    const results = await Promise.all(ops.map((op) => status(client.sendOperation(acct.did, op))))
    expect(results.filter((s) => s === 200)).toHaveLength(1)
    expect(await client.getOperationLog(acct.did)).toHaveLength(2)
  })

  it('exports by seq and by timestamp, paginated', async () => {
    const all = await client.export({ after: 0, count: 1000 })
    expect(all.length).toBeGreaterThan(5)
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1))
    const page = await client.export({ after: 2, count: 3 })
    expect(page.map((e) => e.seq)).toEqual([3, 4, 5])
    expect(page[0].type).toBe('sequenced_op')
    const byTime = await client.export({ after: all[3].createdAt, count: 2 })
    expect(byTime.every((e) => e.createdAt > all[3].createdAt && typeof e.nullified === 'boolean')).toBe(true)
    expect((await fetch(`${server.url}/export?count=0`)).status).toBe(400)
  })
})
