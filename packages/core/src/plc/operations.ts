import { base32 } from 'multiformats/bases/base32'
import { encodeCbor } from '../data/cbor.js'
import { cidForBytes, sha256 } from '../data/cid.js'
import { PlcValidationError } from './errors.js'
import { parseDidKey, type Signer, verifySignature } from './keys.js'
import type {
  AnyPlcOperation,
  PlcOperation,
  PlcOpOrTombstone,
  PlcService,
  PlcTombstone,
  UnsignedAnyPlcOperation,
  UnsignedPlcOperation,
} from './types.js'

const malformed = (why: string) => new PlcValidationError('MalformedOperation', `Malformed operation: ${why}`)

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)

function exactKeys(obj: Record<string, unknown>, keys: readonly string[], what: string): void {
  const own = Object.keys(obj)
  if (own.length !== keys.length || !keys.every((k) => Object.hasOwn(obj, k))) {
    throw malformed(`${what} must have exactly the fields ${keys.join(', ')}`)
  }
}

function stringArray(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw malformed(`${what} must be strings`)
  return v
}

function stringRecord(v: unknown, what: string): Record<string, string> {
  if (!isPlainObject(v) || !Object.values(v).every((x) => typeof x === 'string')) {
    throw malformed(`${what} must map ids to strings`)
  }
  return v as Record<string, string>
}

function serviceRecord(v: unknown): Record<string, PlcService> {
  if (!isPlainObject(v)) throw malformed('services must be an object')
  for (const s of Object.values(v)) {
    if (!isPlainObject(s)) throw malformed('a service must be an object')
    exactKeys(s, ['type', 'endpoint'], 'a service')
    if (typeof s.type !== 'string' || typeof s.endpoint !== 'string')
      throw malformed('service fields are strings')
  }
  return v as Record<string, PlcService>
}

const OP_KEYS = [
  'type',
  'rotationKeys',
  'verificationMethods',
  'alsoKnownAs',
  'services',
  'prev',
  'sig',
] as const
const TOMBSTONE_KEYS = ['type', 'prev', 'sig'] as const
const CREATE_KEYS = ['type', 'signingKey', 'recoveryKey', 'handle', 'service', 'prev', 'sig'] as const

/**
 * Check the exact shape of an operation (no missing or extra fields, right types).
 * @param opts.allowLegacy accept the legacy `create` genesis format (only valid at the head of a log)
 * @throws {PlcValidationError} `MalformedOperation`
 */
export function parsePlcOperation(value: unknown, opts: { allowLegacy?: boolean } = {}): AnyPlcOperation {
  if (!isPlainObject(value)) throw malformed('not an object')
  if (typeof value.sig !== 'string') throw malformed('sig must be a string')
  switch (value.type) {
    case 'plc_operation': {
      exactKeys(value, OP_KEYS, 'plc_operation')
      stringArray(value.rotationKeys, 'rotationKeys')
      stringRecord(value.verificationMethods, 'verificationMethods')
      stringArray(value.alsoKnownAs, 'alsoKnownAs')
      serviceRecord(value.services)
      if (value.prev !== null && typeof value.prev !== 'string')
        throw malformed('prev must be a string or null')
      return value as unknown as PlcOperation
    }
    case 'plc_tombstone':
      exactKeys(value, TOMBSTONE_KEYS, 'plc_tombstone')
      if (typeof value.prev !== 'string') throw malformed('tombstone prev must be a string')
      return value as unknown as PlcTombstone
    case 'create':
      if (!opts.allowLegacy) throw malformed('legacy create operations are no longer accepted')
      exactKeys(value, CREATE_KEYS, 'create')
      for (const k of ['signingKey', 'recoveryKey', 'handle', 'service'] as const) {
        if (typeof value[k] !== 'string') throw malformed(`${k} must be a string`)
      }
      if (value.prev !== null) throw malformed('create prev must be null')
      return value as unknown as AnyPlcOperation
    default:
      throw malformed('unknown type')
  }
}

/** `at://` prefix for a handle, as the reference does for legacy and helper-built ops. */
export const ensureAtprotoPrefix = (s: string): string =>
  s.startsWith('at://') ? s : `at://${s.replace('http://', '').replace('https://', '')}`

/** `https://` prefix for an endpoint unless it already has a scheme. */
export const ensureHttpPrefix = (s: string): string =>
  s.startsWith('http://') || s.startsWith('https://') ? s : `https://${s}`

/** Bring a legacy `create` op to the `plc_operation` shape (keeping its signature). */
export function normalizeOp(op: PlcOperation | AnyPlcOperation): PlcOperation {
  if (op.type === 'plc_operation') return op
  if (op.type === 'plc_tombstone') throw new PlcValidationError('Tombstoned', 'A tombstone carries no data')
  return {
    type: 'plc_operation',
    verificationMethods: { atproto: op.signingKey },
    rotationKeys: [op.recoveryKey, op.signingKey],
    alsoKnownAs: [ensureAtprotoPrefix(op.handle)],
    services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: ensureHttpPrefix(op.service) } },
    prev: op.prev,
    sig: op.sig,
  }
}

/** DAG-CBOR bytes that the signature covers: the operation without `sig`. */
export function unsignedOpBytes(op: AnyPlcOperation): Uint8Array {
  const { sig: _sig, ...unsigned } = op
  return encodeCbor(unsigned)
}

/** CID (string) of a signed operation: what the next operation's `prev` names. */
export function cidForOp(op: AnyPlcOperation): string {
  return cidForBytes(encodeCbor(op)).toString()
}

/** `did:plc:` + the first 24 base32 characters of sha-256 over the signed genesis operation. */
export function didForGenesisOp(op: AnyPlcOperation): string {
  return `did:plc:${base32.baseEncode(sha256(encodeCbor(op))).slice(0, 24)}`
}

/** True when `did` is syntactically a did:plc identifier. */
export const isPlcDid = (did: string): boolean => /^did:plc:[a-z2-7]{24}$/.test(did)

const B64URL = /^[A-Za-z0-9_-]*$/

/** Decode unpadded base64url strictly: no padding, whitespace or non-zero trailing bits. */
export function decodeBase64UrlStrict(s: string): Uint8Array | null {
  if (!B64URL.test(s) || s.length % 4 === 1) return null
  const bytes = Buffer.from(s, 'base64url')
  // Re-encoding exposes non-canonical trailing bits (two strings decoding to one signature).
  if (bytes.toString('base64url') !== s) return null
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/**
 * Return the first of `allowedKeys` whose signature over the operation verifies.
 * @throws {PlcValidationError} `InvalidSignature`
 */
export async function assureValidSig(allowedKeys: readonly string[], op: AnyPlcOperation): Promise<string> {
  const sig = decodeBase64UrlStrict(op.sig)
  // Only the 64-byte compact form is valid: DER or other encodings would make signatures malleable.
  if (sig && sig.length === 64 && allowedKeys.length > 0) {
    const bytes = unsignedOpBytes(op)
    for (const key of allowedKeys) {
      let ok = false
      try {
        ok = await verifySignature(key, bytes, sig)
      } catch {
        ok = false // an unparseable key simply cannot sign
      }
      if (ok) return key
    }
  }
  throw new PlcValidationError('InvalidSignature', `Invalid signature on ${op.type} operation`)
}

/** Sign an unsigned operation or tombstone with a rotation key. */
export async function signPlcOperation<T extends UnsignedAnyPlcOperation>(
  unsigned: T,
  signer: Signer,
): Promise<T & { sig: string }> {
  const sig = await signer.sign(encodeCbor(unsigned))
  return { ...unsigned, sig: Buffer.from(sig).toString('base64url') }
}

/** Options of {@link createGenesisOp}. */
export interface GenesisOpOptions {
  /** did:key of the atproto repo signing key. */
  signingKey: string
  handle: string
  /** PDS endpoint URL. */
  pds: string
  /** did:key rotation keys, highest priority first. */
  rotationKeys: string[]
  /** Signs the op; must hold one of `rotationKeys`. */
  signer: Signer
}

/** Build and sign an atproto genesis operation; returns the op, its DID and CID. */
export async function createGenesisOp(
  opts: GenesisOpOptions,
): Promise<{ op: PlcOperation; did: string; cid: string }> {
  const op = await signPlcOperation(
    {
      type: 'plc_operation',
      verificationMethods: { atproto: opts.signingKey },
      rotationKeys: opts.rotationKeys,
      alsoKnownAs: [ensureAtprotoPrefix(opts.handle)],
      services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: ensureHttpPrefix(opts.pds) } },
      prev: null,
    } satisfies UnsignedPlcOperation,
    opts.signer,
  )
  return { op, did: didForGenesisOp(op), cid: cidForOp(op) }
}

/**
 * Build and sign the operation that follows `lastOp`. `update` receives the current state
 * (without `prev`/`sig`) and returns the new one.
 */
export async function createUpdateOp(
  lastOp: AnyPlcOperation,
  signer: Signer,
  update: (current: Omit<UnsignedPlcOperation, 'prev'>) => Omit<UnsignedPlcOperation, 'prev'>,
): Promise<PlcOperation> {
  const { sig: _sig, prev: _prev, ...current } = normalizeOp(lastOp)
  const next = update(structuredClone(current))
  return signPlcOperation({ ...next, type: 'plc_operation', prev: cidForOp(lastOp) }, signer)
}

/** Atproto-level update helper: change handle, PDS, signing key and/or rotation keys. */
export function createAtprotoUpdateOp(
  lastOp: AnyPlcOperation,
  signer: Signer,
  changes: { handle?: string; pds?: string; signingKey?: string; rotationKeys?: string[] },
): Promise<PlcOperation> {
  return createUpdateOp(lastOp, signer, (cur) => {
    if (changes.signingKey) cur.verificationMethods.atproto = changes.signingKey
    if (changes.handle) {
      const at = ensureAtprotoPrefix(changes.handle)
      const i = cur.alsoKnownAs.findIndex((a) => a.startsWith('at://'))
      if (i < 0) cur.alsoKnownAs.unshift(at)
      else cur.alsoKnownAs[i] = at
    }
    if (changes.pds) {
      cur.services.atproto_pds = {
        type: 'AtprotoPersonalDataServer',
        endpoint: ensureHttpPrefix(changes.pds),
      }
    }
    if (changes.rotationKeys) cur.rotationKeys = changes.rotationKeys
    return cur
  })
}

/** Build and sign a tombstone following `lastOp`. */
export function createTombstoneOp(lastOp: AnyPlcOperation | string, signer: Signer): Promise<PlcTombstone> {
  const prev = typeof lastOp === 'string' ? lastOp : cidForOp(lastOp)
  return signPlcOperation({ type: 'plc_tombstone', prev }, signer)
}

/** Whether a did:key string parses as a supported key (P-256 or secp256k1). */
export function isSupportedDidKey(key: string): boolean {
  try {
    parseDidKey(key)
    return true
  } catch {
    return false
  }
}

export type { PlcOpOrTombstone }
