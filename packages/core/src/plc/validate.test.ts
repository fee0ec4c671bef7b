import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { P256Keypair, Secp256k1Keypair } from '@atproto/crypto'
import { describe, expect, it } from 'vitest'
import { PlcValidationError } from './errors.js'
import {
  assureValidSig,
  cidForOp,
  createAtprotoUpdateOp,
  createGenesisOp,
  createTombstoneOp,
  decodeBase64UrlStrict,
  didForGenesisOp,
  signPlcOperation,
} from './operations.js'
import type { PlcLogEntry } from './types.js'
import {
  assertValidIncomingOp,
  assureValidNextOp,
  PLC_RECOVERY_WINDOW_MS,
  validateAuditLog,
  validateOperationLog,
} from './validate.js'

const vectors = join(import.meta.dirname, 'testdata', 'audit_log')
const load = (kind: string) =>
  readdirSync(join(vectors, kind)).map(
    (f) => [f, JSON.parse(readFileSync(join(vectors, kind, f), 'utf8'))] as const,
  )

describe('interop audit-log vectors (did-method-plc)', () => {
  it.each(load('valid'))('%s replays', async (_name, log) => {
    const did = log[0].did
    const doc = await validateAuditLog(did, log)
    const last = log.filter((e: any) => !e.nullified).at(-1)
    if (last.operation.type === 'plc_tombstone') expect(doc).toBeNull()
    else expect(doc?.did).toBe(did)
    // The non-nullified ops alone form a valid plain log too.
    const plain = log.filter((e: any) => !e.nullified).map((e: any) => e.operation)
    expect(await validateOperationLog(did, plain)).toEqual(doc)
  })
  it.each(load('invalid'))('%s is rejected', async (_name, log) => {
    await expect(validateAuditLog(log[0].did, log)).rejects.toThrow(PlcValidationError)
  })
})

describe('strict base64url', () => {
  it('refuses padding, whitespace and non-canonical trailing bits', () => {
    expect(decodeBase64UrlStrict('AQID')).toEqual(new Uint8Array([1, 2, 3]))
    expect(decodeBase64UrlStrict('AQI')).toEqual(new Uint8Array([1, 2]))
    expect(decodeBase64UrlStrict('AQI=')).toBeNull()
    expect(decodeBase64UrlStrict('AQJ')).toBeNull() // trailing bits set
    expect(decodeBase64UrlStrict('AQ\nID')).toBeNull()
    expect(decodeBase64UrlStrict('AQ+/')).toBeNull()
    expect(decodeBase64UrlStrict('A')).toBeNull()
  })
})

const HOUR = 60 * 60 * 1000

async function setup() {
  const rotation = [
    await Secp256k1Keypair.create(),
    await P256Keypair.create(),
    await Secp256k1Keypair.create(),
  ]
  const signingKey = await P256Keypair.create()
  const genesis = await createGenesisOp({
    signingKey: signingKey.did(),
    handle: 'alice.test',
    pds: 'https://pds.test',
    rotationKeys: rotation.map((k) => k.did()),
    signer: rotation[1],
  })
  const log: PlcLogEntry[] = [
    { did: genesis.did, operation: genesis.op, cid: genesis.cid, nullified: false, createdAt: new Date(0) },
  ]
  return { rotation, genesis, log, did: genesis.did }
}

describe('operations', () => {
  it('derives the DID like the reference and signs over DAG-CBOR', async () => {
    const { genesis, rotation, did } = await setup()
    expect(did).toMatch(/^did:plc:[a-z2-7]{24}$/)
    expect(didForGenesisOp(genesis.op)).toBe(did)
    expect(genesis.cid).toMatch(/^bafyrei/)
    expect(await assureValidSig([rotation[0].did(), rotation[1].did()], genesis.op)).toBe(rotation[1].did())
    expect(genesis.op.alsoKnownAs).toEqual(['at://alice.test'])
    await expect(assureValidSig([rotation[0].did()], genesis.op)).rejects.toMatchObject({
      code: 'InvalidSignature',
    })
  })

  it('accepts updates signed by any rotation key, rejects others and wrong prev', async () => {
    const { rotation, genesis, log, did } = await setup()
    const update = await createAtprotoUpdateOp(genesis.op, rotation[2], { handle: 'bob.test' })
    expect(await assureValidNextOp(did, log, update, new Date(1000))).toEqual({
      nullified: [],
      prev: genesis.cid,
    })
    const stranger = await Secp256k1Keypair.create()
    const forged = await createAtprotoUpdateOp(genesis.op, stranger, { handle: 'bob.test' })
    await expect(assureValidNextOp(did, log, forged, new Date(1000))).rejects.toMatchObject({
      code: 'InvalidSignature',
    })
    const wrongPrev = await signPlcOperation(
      { ...(({ sig: _s, ...u }) => u)(update), prev: cidForOp(update) },
      rotation[0],
    )
    await expect(assureValidNextOp(did, log, wrongPrev, new Date(1000))).rejects.toMatchObject({
      code: 'MisorderedOperation',
    })
  })

  it('lets a higher-priority key nullify within 72 h, not after, and not the same key', async () => {
    const { rotation, genesis, log, did } = await setup()
    // rotation[2] (lowest priority) hijacks; rotation[0] (highest) recovers.
    const hijack = await createAtprotoUpdateOp(genesis.op, rotation[2], { pds: 'https://evil.test' })
    log.push({
      did,
      operation: hijack,
      cid: cidForOp(hijack),
      nullified: false,
      createdAt: new Date(10 * HOUR),
    })
    const recovery = await createAtprotoUpdateOp(genesis.op, rotation[0], { pds: 'https://pds.test' })
    expect(await assureValidNextOp(did, log, recovery, new Date(10 * HOUR + PLC_RECOVERY_WINDOW_MS))).toEqual(
      {
        nullified: [cidForOp(hijack)],
        prev: genesis.cid,
      },
    )
    await expect(
      assureValidNextOp(did, log, recovery, new Date(10 * HOUR + PLC_RECOVERY_WINDOW_MS + 1)),
    ).rejects.toMatchObject({ code: 'LateRecovery' })
    const sameKey = await createAtprotoUpdateOp(genesis.op, rotation[2], { pds: 'https://x.test' })
    await expect(assureValidNextOp(did, log, sameKey, new Date(11 * HOUR))).rejects.toMatchObject({
      code: 'InvalidSignature',
    })
    const middle = await createAtprotoUpdateOp(genesis.op, rotation[1], { pds: 'https://y.test' })
    expect((await assureValidNextOp(did, log, middle, new Date(11 * HOUR))).nullified).toHaveLength(1)
  })

  it('tombstones end the log', async () => {
    const { rotation, genesis, log, did } = await setup()
    const tomb = await createTombstoneOp(genesis.op, rotation[0])
    await assureValidNextOp(did, log, tomb, new Date(5))
    log.push({ did, operation: tomb, cid: cidForOp(tomb), nullified: false, createdAt: new Date(5) })
    const after = await signPlcOperation({ type: 'plc_tombstone', prev: cidForOp(tomb) }, rotation[0])
    await expect(assureValidNextOp(did, log, after, new Date(6))).rejects.toMatchObject({
      code: 'Tombstoned',
    })
    expect(await validateOperationLog(did, [genesis.op, tomb])).toBeNull()
  })

  it('rejects a genesis op under a different DID, or with a prev', async () => {
    const { genesis, rotation } = await setup()
    await expect(
      assureValidNextOp('did:plc:aaaaaaaaaaaaaaaaaaaaaaaa', [], genesis.op, new Date()),
    ).rejects.toMatchObject({ code: 'GenesisHash' })
    const withPrev = await signPlcOperation(
      { ...(({ sig: _s, ...u }) => u)(genesis.op), prev: genesis.cid },
      rotation[0],
    )
    await expect(
      assureValidNextOp(didForGenesisOp(withPrev), [], withPrev, new Date()),
    ).rejects.toMatchObject({
      code: 'MisorderedOperation',
    })
  })

  it('enforces the shape and size limits of incoming ops', async () => {
    const { genesis } = await setup()
    expect(assertValidIncomingOp(genesis.op)).toBe(genesis.op)
    const cases: [unknown, string][] = [
      [{ ...genesis.op, extra: 1 }, 'MalformedOperation'],
      [{ ...genesis.op, rotationKeys: 'x' }, 'MalformedOperation'],
      [{ ...genesis.op, alsoKnownAs: ['at://a', 'at://a'] }, 'MalformedOperation'],
      [
        { ...genesis.op, alsoKnownAs: Array.from({ length: 11 }, (_, i) => `at://${i}`) },
        'MalformedOperation',
      ],
      [{ ...genesis.op, rotationKeys: ['did:key:zNope'] }, 'UnsupportedKey'],
      [{ ...genesis.op, verificationMethods: { atproto: 'did:key:0OIl' } }, 'MalformedOperation'],
      [{ ...genesis.op, services: { atproto_pds: { type: 'x' } } }, 'MalformedOperation'],
      [
        { ...genesis.op, alsoKnownAs: ['x'.repeat(250)].map((x, i) => `${x}${i}`), sig: 'a'.repeat(4000) },
        '',
      ],
      [{ type: 'create', signingKey: '', recoveryKey: '', handle: '', service: '', prev: null, sig: '' }, ''],
      [null, 'MalformedOperation'],
    ]
    for (const [op, code] of cases) {
      let err: unknown
      try {
        assertValidIncomingOp(op)
      } catch (e) {
        err = e
      }
      expect(err, JSON.stringify(op)?.slice(0, 80)).toBeInstanceOf(PlcValidationError)
      if (code) expect((err as PlcValidationError).code).toBe(code)
    }
  })
})
