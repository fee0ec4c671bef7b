/** Turning XRPC write inputs into validated, prepared writes. */
import { CID } from '../data/cid.js'
import { InvalidJsonDataError, jsonToIpld } from '../data/json.js'
import { assertScope, type ScopePermissions } from '../oauth/scopes.js'
import { nextRev } from '../repo/tid.js'
import { isValidNsid, isValidRecordKey } from '../syntax/identifiers.js'
import { ForbiddenError, InvalidRequestError } from '../xrpc/xrpc-error.js'
import type { PdsAuth } from './auth.js'
import type { PdsContext } from './context.js'
import type { PreparedWrite } from './repo-writer.js'

/** Check a collection NSID (400 naming the field). */
export function ensureCollection(collection: unknown): string {
  if (typeof collection !== 'string' || !isValidNsid(collection)) {
    throw new InvalidRequestError('Input/collection must be a valid NSID')
  }
  return collection
}

/** Check a record key (repository.md record-key rules). */
export function ensureRkey(rkey: unknown): string {
  if (typeof rkey !== 'string' || !isValidRecordKey(rkey)) {
    throw new InvalidRequestError('Input/rkey must be a valid record key')
  }
  return rkey
}

/** Parse an optional CID input (swapCommit, swapRecord). */
export function optionalCid(value: unknown, field: string): CID | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw new InvalidRequestError(`Input/${field} must be a CID string`)
  try {
    return CID.parse(value)
  } catch {
    throw new InvalidRequestError(`Input/${field} must be a valid CID`)
  }
}

/** CIDs of every blob ref (`{$type: 'blob', ref}` or legacy `{cid, mimeType}`) inside a record. */
export function findBlobRefs(value: unknown, out: CID[] = [], depth = 0): CID[] {
  if (depth > 64 || value === null || typeof value !== 'object') return out
  if (Array.isArray(value)) {
    for (const v of value) findBlobRefs(v, out, depth + 1)
    return out
  }
  if (CID.asCID(value) || value instanceof Uint8Array) return out
  const obj = value as Record<string, unknown>
  if (obj.$type === 'blob') {
    const ref = CID.asCID(obj.ref)
    if (ref) out.push(ref)
    return out
  }
  for (const v of Object.values(obj)) findBlobRefs(v, out, depth + 1)
  return out
}

/** Resolve the `repo` parameter (handle or DID) to a hosted account's DID. */
export async function resolveRepo(ctx: PdsContext, repo: unknown): Promise<string> {
  if (typeof repo !== 'string' || !repo) throw new InvalidRequestError('Input/repo must be a handle or DID')
  const account = repo.startsWith('did:')
    ? await ctx.storage.accounts.getByDid(repo)
    : await ctx.storage.accounts.getByHandle(repo.toLowerCase())
  if (!account || account.status === 'deleted')
    throw new InvalidRequestError(`Could not find repo: ${repo}`, 'RepoNotFound')
  return account.did
}

/** Authorization of a write: the caller owns the repo, the account is active, OAuth scopes allow it. */
export async function authorizeWrite(
  ctx: PdsContext,
  auth: PdsAuth,
  did: string,
  writes: Array<{ action: 'create' | 'update' | 'delete'; collection: string }>,
): Promise<void> {
  if (auth.did !== did) throw new ForbiddenError('Not authorized to write to this repo', 'Forbidden')
  const account = await ctx.storage.accounts.getByDid(did)
  if (account?.status === 'deactivated')
    throw new InvalidRequestError('Account is deactivated', 'AccountDeactivated')
  if (auth.kind === 'oauth') {
    for (const w of writes) {
      assertScope(auth.scopes as ScopePermissions, {
        type: 'repo',
        collection: w.collection,
        action: w.action,
      })
    }
  }
}

/** Whether a written record was checked against its lexicon (`undefined`: `validate: false`). */
export type ValidationStatus = 'valid' | 'unknown' | undefined

/**
 * Lexicon validation with the reference's `validate` semantics: `false` skips it; `true` requires a
 * known record lexicon; unset validates known types and accepts others as 'unknown'. A known type also
 * checks the record key against the lexicon's `key`. Failures are ValidationErrors (400 naming the
 * field, e.g. `Record/text must not be longer than 300 graphemes`).
 */
export function validateRecord(
  ctx: PdsContext,
  collection: string,
  record: Record<string, unknown>,
  rkey: string,
  validate: boolean | undefined,
): ValidationStatus {
  if (validate === false) return undefined
  if (!ctx.lexicons.isRecordType(collection)) {
    if (validate === true) throw new InvalidRequestError(`Lexicon not found: ${collection}`)
    return 'unknown'
  }
  ctx.lexicons.assertValidRecord(collection, record, rkey)
  return 'valid'
}

/**
 * Prepare a create/update: JSON -> IPLD, `$type` must name the collection (unless `validate: false`),
 * the record is checked against its lexicon ({@link validateRecord}), blob refs collected.
 */
export function prepareRecord(
  ctx: PdsContext,
  collection: string,
  rkey: string,
  record: unknown,
  validate: boolean | undefined,
): { record: unknown; blobs: CID[]; validationStatus: ValidationStatus } {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    throw new InvalidRequestError('Input/record must be an object')
  }
  let value: Record<string, unknown>
  try {
    value = jsonToIpld(record) as Record<string, unknown>
  } catch (err) {
    if (err instanceof InvalidJsonDataError) throw new InvalidRequestError(`Input/record: ${err.message}`)
    throw err
  }
  if (value.$type === undefined) value.$type = collection
  if (validate !== false && value.$type !== collection) {
    throw new InvalidRequestError(`Invalid $type: expected ${collection}, got ${String(value.$type)}`)
  }
  const validationStatus = validateRecord(ctx, collection, value, rkey, validate)
  return { record: value, blobs: findBlobRefs(value), validationStatus }
}

/**
 * Build a create write. Without an rkey, a record whose lexicon key is `literal:<k>` gets `k`, any
 * other a new TID.
 */
export function prepareCreate(
  ctx: PdsContext,
  input: { collection: unknown; rkey?: unknown; record: unknown; validate?: unknown },
): PreparedWrite {
  const collection = ensureCollection(input.collection)
  const validate = input.validate as boolean | undefined
  let rkey: string
  if (input.rkey === undefined || input.rkey === null) {
    const keyType = validate === false ? undefined : ctx.lexicons.recordKeyType(collection)
    rkey = keyType?.startsWith('literal:') ? keyType.slice(8) : nextRev()
  } else rkey = ensureRkey(input.rkey)
  const { record, blobs, validationStatus } = prepareRecord(ctx, collection, rkey, input.record, validate)
  return { action: 'create', collection, rkey, record, blobs, validationStatus }
}
