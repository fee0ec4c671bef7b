// Differential against @did-plc/lib (the reference PLC implementation): its operations are accepted by
// our directory, ours by its validation, and both refuse the same invalid operations.
import { P256Keypair, Secp256k1Keypair } from '@atproto/crypto'
import * as plc from '@did-plc/lib'
import { CID } from 'multiformats/cid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHttpServer, type TestServer } from '../identity/test-servers.js'
import { toNodeHandler } from '../node/to-node-handler.js'
import { PlcClient } from './client.js'
import { createPlcDirectory } from './directory.js'
import { PlcValidationError } from './errors.js'
import {
  cidForOp,
  createAtprotoUpdateOp,
  createGenesisOp,
  createTombstoneOp,
  signPlcOperation,
} from './operations.js'
import { MemoryPlcStore } from './store.js'
import type { AnyPlcOperation, PlcOperation } from './types.js'
import {
  assertValidIncomingOp,
  assureValidNextOp,
  PLC_RECOVERY_WINDOW_MS,
  validateOperationLog,
} from './validate.js'

const HOUR = 3_600_000
let server: TestServer
let client: PlcClient
beforeAll(async () => {
  const dir = createPlcDirectory({ store: new MemoryPlcStore(), rateLimit: false })
  server = await startHttpServer(toNodeHandler({ fetch: (r) => dir.fetch(r), owns: () => true }))
  client = new PlcClient(server.url)
})
afterAll(() => server?.close())

type Op = AnyPlcOperation
/** The reference's indexed log: its validation reads `createdAt` against the wall clock. */
const indexed = (did: string, ops: Op[], createdAt: (i: number) => Date) =>
  ops.map((operation, i) => ({
    did,
    operation: operation as never,
    cid: CID.parse(cidForOp(operation)) as never,
    nullified: false,
    createdAt: createdAt(i),
  }))
const ourLog = (ops: Op[], createdAt: (i: number) => Date) =>
  ops.map((operation, i) => ({ operation, cid: cidForOp(operation), createdAt: createdAt(i) }))

async function keys() {
  return {
    recovery: await Secp256k1Keypair.create(),
    rotation: await P256Keypair.create(),
    signing: await Secp256k1Keypair.create(),
  }
}

describe('@did-plc/lib operations on our directory', () => {
  it('accepts its genesis, updates, rotation and tombstone; documents match its formatDidDoc', async () => {
    const k = await keys()
    const { op: genesis, did } = await plc.createOp({
      signingKey: k.signing.did(),
      handle: 'alice.test',
      pds: 'https://pds.test',
      rotationKeys: [k.recovery.did(), k.rotation.did()],
      signer: k.rotation,
    })
    await client.sendOperation(did, genesis as PlcOperation)
    const ops: Op[] = [genesis as Op]
    const steps = [
      (last: Op) => plc.updateHandleOp(last as never, k.rotation, 'bob.test'),
      (last: Op) => plc.updatePdsOp(last as never, k.rotation, 'https://other.test'),
      (last: Op) => plc.updateAtprotoKeyOp(last as never, k.rotation, k.recovery.did()),
      (last: Op) => plc.updateRotationKeysOp(last as never, k.recovery, [k.recovery.did()]),
    ]
    for (const step of steps) {
      const next = (await step(ops.at(-1)!)) as Op
      await client.sendOperation(did, next as PlcOperation)
      ops.push(next)
      // Compare data, not documents: this release formats keys the legacy way (…VerificationKey2019),
      // the directory today serves Multikey, as we do.
      expect(await client.getDocumentData(did)).toEqual(plc.opToData(did, next as never))
    }
    expect(await client.getOperationLog(did)).toEqual(ops)
    // The old rotation key lost its power with the last update.
    const stale = (await plc.updateHandleOp(ops.at(-1) as never, k.rotation, 'x.test')) as Op
    await expect(client.sendOperation(did, stale as PlcOperation)).rejects.toMatchObject({ status: 400 })
    const tomb = await plc.tombstoneOp(CID.parse(cidForOp(ops.at(-1)!)) as never, k.recovery)
    await client.sendOperation(did, tomb as never)
    await expect(client.getDocument(did)).rejects.toMatchObject({ status: 410 })
  })
})

describe('our operations under @did-plc/lib validation', () => {
  it('passes validateOperationLog, assureValidCreationOp and assureValidNextOp', async () => {
    const k = await keys()
    const g = await createGenesisOp({
      signingKey: k.signing.did(),
      handle: 'carol.test',
      pds: 'https://pds.test',
      rotationKeys: [k.recovery.did(), k.rotation.did()],
      signer: k.rotation,
    })
    expect(await plc.didForCreateOp(g.op as never)).toBe(g.did)
    await plc.assureValidCreationOp(g.did, g.op as never)
    const ops: Op[] = [g.op]
    ops.push(await createAtprotoUpdateOp(ops.at(-1)!, k.rotation, { handle: 'dave.test' }))
    ops.push(await createAtprotoUpdateOp(ops.at(-1)!, k.recovery, { signingKey: k.rotation.did() }))
    ops.push(await createAtprotoUpdateOp(ops.at(-1)!, k.rotation, { rotationKeys: [k.rotation.did()] }))
    const now = Date.now()
    for (let i = 1; i < ops.length; i++) {
      const log = indexed(g.did, ops.slice(0, i), (j) => new Date(now - (10 - j) * 1000))
      expect(await plc.assureValidNextOp(g.did, log, ops[i] as never)).toMatchObject({ nullified: [] })
    }
    const theirs = await plc.validateOperationLog(g.did, ops as never)
    const ours = await validateOperationLog(g.did, ops)
    expect(ours).toEqual(theirs)
    const tomb = await createTombstoneOp(ops.at(-1)!, k.rotation)
    expect(await plc.validateOperationLog(g.did, [...ops, tomb] as never)).toBeNull()
  })

  it('agrees on a recovery (nullification) by a higher-priority key within 72 h', async () => {
    const k = await keys()
    const g = await createGenesisOp({
      signingKey: k.signing.did(),
      handle: 'erin.test',
      pds: 'https://pds.test',
      rotationKeys: [k.recovery.did(), k.rotation.did()],
      signer: k.rotation,
    })
    const hijack = await createAtprotoUpdateOp(g.op, k.rotation, { pds: 'https://evil.test' })
    const recovery = await createAtprotoUpdateOp(g.op, k.recovery, { pds: 'https://pds.test' })
    const now = Date.now()
    const at = (i: number) => new Date(now - (i === 0 ? 2 : 1) * HOUR)
    const theirs = await plc.assureValidNextOp(g.did, indexed(g.did, [g.op, hijack], at), recovery as never)
    const ours = await assureValidNextOp(g.did, ourLog([g.op, hijack], at), recovery, new Date(now))
    expect(theirs.nullified.map(String)).toEqual(ours.nullified)
    expect(ours.nullified).toEqual([cidForOp(hijack)])
  })
})

describe('invalid operations: both refuse, ours with a clear error', () => {
  const cases: Array<{
    name: string
    code: PlcValidationError['code']
    make: (
      k: Awaited<ReturnType<typeof keys>>,
      g: { op: PlcOperation; did: string },
    ) => Promise<{
      log: Op[]
      proposed: Op
      ages?: number[] // hours before now of each log entry
    }>
    theirs: new (...args: never[]) => Error
  }> = [
    {
      name: 'bad signature (signed by a key that is not a rotation key)',
      code: 'InvalidSignature',
      theirs: plc.InvalidSignatureError,
      make: async (k, g) => ({
        log: [g.op],
        proposed: await createAtprotoUpdateOp(g.op, k.signing, { handle: 'x.test' }),
      }),
    },
    {
      name: 'tampered payload under a valid signature',
      code: 'InvalidSignature',
      theirs: plc.InvalidSignatureError,
      make: async (k, g) => {
        const op = await createAtprotoUpdateOp(g.op, k.rotation, { handle: 'x.test' })
        return { log: [g.op], proposed: { ...op, alsoKnownAs: ['at://mallory.test'] } }
      },
    },
    {
      name: 'wrong prev',
      code: 'MisorderedOperation',
      theirs: plc.MisorderedOperationError,
      make: async (k, g) => {
        const other = await createGenesisOp({
          signingKey: k.signing.did(),
          handle: 'other.test',
          pds: 'https://pds.test',
          rotationKeys: [k.rotation.did()],
          signer: k.rotation,
        })
        return {
          log: [g.op],
          proposed: await createAtprotoUpdateOp(other.op, k.rotation, { handle: 'x.test' }),
        }
      },
    },
    {
      name: 'nullification by a lower-priority key',
      code: 'InvalidSignature',
      theirs: plc.InvalidSignatureError,
      make: async (k, g) => {
        const first = await createAtprotoUpdateOp(g.op, k.recovery, { handle: 'first.test' })
        return {
          log: [g.op, first],
          proposed: await createAtprotoUpdateOp(g.op, k.rotation, { handle: 'second.test' }),
          ages: [2, 1],
        }
      },
    },
    {
      name: 'recovery by a higher-priority key after 72 h',
      code: 'LateRecovery',
      theirs: plc.LateRecoveryError,
      make: async (k, g) => {
        const hijack = await createAtprotoUpdateOp(g.op, k.rotation, { pds: 'https://evil.test' })
        return {
          log: [g.op, hijack],
          proposed: await createAtprotoUpdateOp(g.op, k.recovery, { pds: 'https://pds.test' }),
          ages: [100, PLC_RECOVERY_WINDOW_MS / HOUR + 1],
        }
      },
    },
    {
      name: 'malformed: a missing field',
      code: 'MalformedOperation',
      theirs: plc.PlcError,
      make: async (k, g) => {
        const { alsoKnownAs: _aka, ...rest } = await createAtprotoUpdateOp(g.op, k.rotation, {
          handle: 'x.test',
        })
        return { log: [g.op], proposed: (await signPlcOperation(rest as never, k.rotation)) as Op }
      },
    },
    {
      name: 'malformed: rotationKeys not strings',
      code: 'MalformedOperation',
      theirs: plc.PlcError,
      make: async (k, g) => {
        const op = await createAtprotoUpdateOp(g.op, k.rotation, { handle: 'x.test' })
        const { sig: _sig, ...unsigned } = { ...op, rotationKeys: [42] }
        return { log: [g.op], proposed: (await signPlcOperation(unsigned as never, k.rotation)) as Op }
      },
    },
  ]

  it.each(cases)('$name', async ({ code, make, theirs }) => {
    const k = await keys()
    const g = await createGenesisOp({
      signingKey: k.signing.did(),
      handle: 'frank.test',
      pds: 'https://pds.test',
      rotationKeys: [k.recovery.did(), k.rotation.did()],
      signer: k.rotation,
    })
    const { log, proposed, ages } = await make(k, g)
    const now = Date.now()
    const at = (i: number) => new Date(now - (ages?.[i] ?? log.length - i) * HOUR)
    // What our directory runs on a submission: the shape check, then history and signatures.
    const ourErr = await Promise.resolve()
      .then(() => assertValidIncomingOp(proposed))
      .then(() => assureValidNextOp(g.did, ourLog(log, at), proposed, new Date(now)))
      .catch((e) => e)
    expect(ourErr).toBeInstanceOf(PlcValidationError)
    expect(ourErr.code).toBe(code)
    expect(ourErr.message.length).toBeGreaterThan(10)
    const theirErr = await plc
      .assureValidNextOp(g.did, indexed(g.did, log, at), proposed as never)
      .catch((e) => e)
    // The reference's schema check throws a plain Error for malformed input; the others are typed.
    expect(theirErr).toBeInstanceOf(code === 'MalformedOperation' ? Error : theirs)
  })
})
