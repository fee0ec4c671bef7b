import { base58btc } from 'multiformats/bases/base58'
import { encodeCbor } from '../data/cbor.js'
import { PlcValidationError } from './errors.js'
import {
  assureValidSig,
  cidForOp,
  didForGenesisOp,
  isSupportedDidKey,
  normalizeOp,
  parsePlcOperation,
} from './operations.js'
import type { AnyPlcOperation, PlcDocumentData, PlcLogEntry, PlcOpOrTombstone } from './types.js'

/** Limits a directory enforces on submitted operations (the reference server's values). */
export const PLC_LIMITS = {
  maxOpBytes: 4000,
  maxAkaEntries: 10,
  maxAkaLength: 258, // 253-char handle + `at://`
  maxRotationKeys: 10,
  maxServices: 10,
  maxServiceTypeLength: 256,
  maxServiceEndpointLength: 512,
  maxVerificationMethods: 10,
  maxIdLength: 32,
  maxDidKeyLength: 256,
} as const

/** Nullifying ops signed by a lower-priority key is allowed this long after they were accepted. */
export const PLC_RECOVERY_WINDOW_MS = 72 * 60 * 60 * 1000

const bad = (why: string) => new PlcValidationError('MalformedOperation', why)

/**
 * Validate the shape and size limits of an operation submitted to a directory (legacy `create`
 * is refused). Signatures and history are checked by {@link assureValidNextOp}.
 * @throws {PlcValidationError}
 */
export function assertValidIncomingOp(value: unknown): PlcOpOrTombstone {
  const op = parsePlcOperation(value) as PlcOpOrTombstone
  const size = encodeCbor(op).byteLength
  if (size > PLC_LIMITS.maxOpBytes) {
    throw new PlcValidationError(
      'OperationTooLarge',
      `Operation too large (${PLC_LIMITS.maxOpBytes} bytes maximum in cbor encoding)`,
    )
  }
  if (op.type === 'plc_tombstone') return op
  const L = PLC_LIMITS
  if (op.alsoKnownAs.length > L.maxAkaEntries)
    throw bad(`Too many alsoKnownAs entries (max ${L.maxAkaEntries})`)
  const seen = new Set<string>()
  for (const aka of op.alsoKnownAs) {
    if (aka.length > L.maxAkaLength) throw bad(`alsoKnownAs entry too long (max ${L.maxAkaLength})`)
    if (seen.has(aka)) throw bad(`Duplicate alsoKnownAs entry: ${aka}`)
    seen.add(aka)
  }
  if (op.rotationKeys.length > L.maxRotationKeys)
    throw bad(`Too many rotationKeys (max ${L.maxRotationKeys})`)
  for (const key of op.rotationKeys) {
    if (!isSupportedDidKey(key)) throw new PlcValidationError('UnsupportedKey', `Invalid rotationKey: ${key}`)
  }
  const services = Object.entries(op.services)
  if (services.length > L.maxServices) throw bad(`Too many service entries (max ${L.maxServices})`)
  for (const [id, s] of services) {
    if (id.length > L.maxIdLength) throw bad(`Service id too long (max ${L.maxIdLength})`)
    if (s.type.length > L.maxServiceTypeLength)
      throw bad(`Service type too long (max ${L.maxServiceTypeLength})`)
    if (s.endpoint.length > L.maxServiceEndpointLength) {
      throw bad(`Service endpoint too long (max ${L.maxServiceEndpointLength})`)
    }
  }
  const methods = Object.entries(op.verificationMethods)
  if (methods.length > L.maxVerificationMethods) {
    throw bad(`Too many verificationMethods (max ${L.maxVerificationMethods})`)
  }
  for (const [id, key] of methods) {
    if (id.length > L.maxIdLength) throw bad(`Verification method id too long (max ${L.maxIdLength})`)
    if (key.length > L.maxDidKeyLength)
      throw bad(`Verification method key too long (max ${L.maxDidKeyLength})`)
    // Only did:key + base58btc syntax: other key types are allowed in verification methods.
    try {
      if (!key.startsWith('did:key:z')) throw new Error()
      base58btc.decode(key.slice('did:key:'.length))
    } catch {
      throw bad(`Invalid verificationMethod key: ${key}`)
    }
  }
  return op
}

/** Document data after an operation, or null for a tombstone. */
export function opToData(did: string, op: AnyPlcOperation): PlcDocumentData | null {
  if (op.type === 'plc_tombstone') return null
  const { verificationMethods, rotationKeys, alsoKnownAs, services } = normalizeOp(op)
  return { did, verificationMethods, rotationKeys, alsoKnownAs, services }
}

/**
 * Check a genesis operation: signed by one of its own rotation keys, null prev, and hashing to `did`.
 * @throws {PlcValidationError}
 */
export async function assureValidCreationOp(did: string, op: AnyPlcOperation): Promise<PlcDocumentData> {
  if (op.type === 'plc_tombstone') {
    throw new PlcValidationError('MisorderedOperation', 'A log cannot start with a tombstone')
  }
  if (op.prev !== null)
    throw new PlcValidationError('MisorderedOperation', 'Genesis operation must have null prev')
  const normalized = normalizeOp(op)
  await assureValidSig(normalized.rotationKeys, op)
  const expected = didForGenesisOp(op)
  if (expected !== did) {
    throw new PlcValidationError(
      'GenesisHash',
      `Hash of genesis operation does not match DID (expected ${expected})`,
    )
  }
  return opToData(did, op)!
}

/**
 * Decide whether `proposed` may extend the DID's log at time `now`.
 *
 * `log` is the DID's current (non-nullified) history, oldest first. `prev` may name the last op
 * (a plain update) or an earlier one (a fork): forking nullifies every later op and needs a
 * signature from a rotation key of strictly higher priority than the signer of the first
 * nullified op, within {@link PLC_RECOVERY_WINDOW_MS} of that op.
 * @returns the CIDs to nullify
 * @throws {PlcValidationError}
 */
export async function assureValidNextOp(
  did: string,
  log: readonly Pick<PlcLogEntry, 'operation' | 'cid' | 'createdAt'>[],
  proposed: AnyPlcOperation,
  now: Date,
): Promise<{ nullified: string[]; prev: string | null }> {
  if (log.length === 0) {
    await assureValidCreationOp(did, proposed)
    return { nullified: [], prev: null }
  }
  const prev = proposed.prev
  if (!prev) throw new PlcValidationError('MisorderedOperation', 'Operation must reference a prev')
  const indexOfPrev = log.findIndex((e) => e.cid === prev)
  if (indexOfPrev < 0) {
    throw new PlcValidationError(
      'MisorderedOperation',
      `prev ${prev} is not an operation in this DID's history`,
    )
  }
  const base = log[indexOfPrev]
  if (base.operation.type === 'plc_tombstone') {
    throw new PlcValidationError('Tombstoned', 'The DID is tombstoned: no operation may follow')
  }
  const { rotationKeys } = normalizeOp(base.operation)
  const nullified = log.slice(indexOfPrev + 1)
  if (nullified.length === 0) {
    await assureValidSig(rotationKeys, proposed)
    return { nullified: [], prev }
  }
  const firstNullified = nullified[0]
  const disputedSigner = await assureValidSig(rotationKeys, firstNullified.operation)
  const morePowerful = rotationKeys.slice(0, rotationKeys.indexOf(disputedSigner))
  try {
    await assureValidSig(morePowerful, proposed)
  } catch {
    throw new PlcValidationError(
      'InvalidSignature',
      'Nullifying operations requires a rotation key of higher priority than the one that signed them',
    )
  }
  if (now.getTime() <= log[log.length - 1].createdAt.getTime()) {
    throw new PlcValidationError('MisorderedOperation', 'Operation timestamps must increase')
  }
  const lapsed = now.getTime() - firstNullified.createdAt.getTime()
  if (lapsed > PLC_RECOVERY_WINDOW_MS) {
    throw new PlcValidationError(
      'LateRecovery',
      `Recovery outside the 72 h window (${Math.round(lapsed / 1000)} s after the nullified operation)`,
    )
  }
  return { nullified: nullified.map((e) => e.cid), prev }
}

/**
 * Validate a DID's plain operation log (as served at `/{did}/log`), oldest first.
 * @returns the current document data, or null when the log ends in a tombstone
 * @throws {PlcValidationError}
 */
export async function validateOperationLog(
  did: string,
  ops: readonly unknown[],
): Promise<PlcDocumentData | null> {
  if (ops.length === 0) throw new PlcValidationError('MisorderedOperation', 'Empty operation log')
  const [first, ...rest] = ops
  const genesis = parsePlcOperation(first, { allowLegacy: true })
  let doc: PlcDocumentData | null = await assureValidCreationOp(did, genesis)
  let prev = cidForOp(genesis)
  for (const raw of rest) {
    const op = parsePlcOperation(raw)
    if (doc === null) throw new PlcValidationError('Tombstoned', 'Operation after a tombstone')
    if (op.prev !== prev)
      throw new PlcValidationError('MisorderedOperation', 'prev does not match previous op')
    await assureValidSig(doc.rotationKeys, op)
    doc = opToData(did, op)
    prev = cidForOp(op)
  }
  return doc
}

/**
 * Replay an audit log (as served at `/{did}/log/audit`, including nullified entries) and check
 * every entry's CID, signature, ordering and recovery rule, and that the `nullified` flags are
 * exactly those the replay produces.
 * @returns the current document data, or null when tombstoned
 * @throws {PlcValidationError}
 */
export async function validateAuditLog(
  did: string,
  entries: readonly {
    did: string
    operation: unknown
    cid: string
    nullified: boolean
    createdAt: string | Date
  }[],
): Promise<PlcDocumentData | null> {
  if (entries.length === 0) throw new PlcValidationError('InvalidAuditLog', 'Empty audit log')
  const active: { operation: AnyPlcOperation; cid: string; createdAt: Date }[] = []
  const nullifiedSet = new Set<string>()
  let lastTime = Number.NEGATIVE_INFINITY
  for (const [i, entry] of entries.entries()) {
    if (entry.did !== did) throw new PlcValidationError('InvalidAuditLog', `Entry ${i} is for another DID`)
    const op = parsePlcOperation(entry.operation, { allowLegacy: i === 0 })
    if (cidForOp(op) !== entry.cid)
      throw new PlcValidationError('InvalidAuditLog', `Entry ${i} has a wrong CID`)
    const createdAt = new Date(entry.createdAt)
    if (Number.isNaN(createdAt.getTime()) || createdAt.getTime() < lastTime) {
      throw new PlcValidationError('InvalidAuditLog', `Entry ${i} is out of time order`)
    }
    lastTime = createdAt.getTime()
    const { nullified } = await assureValidNextOp(did, active, op, createdAt)
    for (const cid of nullified) {
      nullifiedSet.add(cid)
      active.splice(
        active.findIndex((e) => e.cid === cid),
        1,
      )
    }
    active.push({ operation: op, cid: entry.cid, createdAt })
  }
  for (const [i, entry] of entries.entries()) {
    if (entry.nullified !== nullifiedSet.has(entry.cid)) {
      throw new PlcValidationError('InvalidAuditLog', `Entry ${i} has a wrong nullified flag`)
    }
  }
  return opToData(did, active[active.length - 1].operation)
}
