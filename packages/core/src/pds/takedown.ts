/**
 * Takedowns of accounts, records and blobs (com.atproto.admin.updateSubjectStatus). An account's takedown
 * is its status (checked by every verifier and sync endpoint); records and blobs are taken down through
 * the storage's {@link TakedownStore}, keyed by `at://` URI and `<did> <cid>`.
 */
import { CID } from '../data/cid.js'
import type { TakedownStore } from '../storage/types.js'
import { isValidDid } from '../syntax/identifiers.js'
import { InvalidRequestError, MethodNotImplementedError } from '../xrpc/xrpc-error.js'
import { requireAccount, setAccountActive, setAccountTakedown } from './account-ops.js'
import type { PdsContext } from './context.js'

/** What a takedown applies to, as the admin lexicon's subject union names it. */
export type TakedownSubject =
  | { kind: 'account'; did: string }
  | { kind: 'record'; did: string; uri: string; cid: string }
  | { kind: 'blob'; did: string; cid: CID }

/** `{ applied, ref }` of admin status views. */
export interface StatusAttr {
  applied: boolean
  ref?: string
}

const REPO_REF = 'com.atproto.admin.defs#repoRef'
const STRONG_REF = 'com.atproto.repo.strongRef'
const BLOB_REF = 'com.atproto.admin.defs#repoBlobRef'

/** The storage key of a blob takedown. */
export const blobSubject = (did: string, cid: CID | string) => `${did} ${cid.toString()}`

function did(value: unknown, field: string): string {
  if (typeof value !== 'string' || !isValidDid(value)) throw new InvalidRequestError(`${field} must be a DID`)
  return value
}

function parseCid(value: unknown, field: string): CID {
  try {
    return CID.parse(value as string)
  } catch {
    throw new InvalidRequestError(`${field} must be a CID`)
  }
}

/** Parse an `at://did/collection/rkey` record URI. */
export function parseRecordUri(uri: unknown, field = 'uri'): { did: string; uri: string } {
  const m = typeof uri === 'string' ? /^at:\/\/(did:[^/]+)\/([^/]+)\/([^/]+)$/.exec(uri) : null
  if (!m) throw new InvalidRequestError(`${field} must be an at:// record URI with a DID authority`)
  return { did: did(m[1], field), uri: uri as string }
}

/** Parse the `subject` of updateSubjectStatus (by `$type`, or by its fields when untyped). */
export function parseSubject(subject: unknown): TakedownSubject {
  if (subject === null || typeof subject !== 'object' || Array.isArray(subject)) {
    throw new InvalidRequestError('Input/subject must be an object')
  }
  const s = subject as Record<string, unknown>
  const type = s.$type ?? (s.uri !== undefined ? STRONG_REF : s.cid !== undefined ? BLOB_REF : REPO_REF)
  if (type === REPO_REF) return { kind: 'account', did: did(s.did, 'Input/subject/did') }
  if (type === STRONG_REF) {
    const { did, uri } = parseRecordUri(s.uri, 'Input/subject/uri')
    return { kind: 'record', did, uri, cid: parseCid(s.cid, 'Input/subject/cid').toString() }
  }
  if (type === BLOB_REF) {
    return { kind: 'blob', did: did(s.did, 'Input/subject/did'), cid: parseCid(s.cid, 'Input/subject/cid') }
  }
  throw new InvalidRequestError(`Input/subject has an unknown $type: ${String(type)}`)
}

/** The subject as the lexicon shapes it in answers. */
export function subjectView(subject: TakedownSubject): Record<string, unknown> {
  if (subject.kind === 'account') return { $type: REPO_REF, did: subject.did }
  if (subject.kind === 'record') return { $type: STRONG_REF, uri: subject.uri, cid: subject.cid }
  return { $type: BLOB_REF, did: subject.did, cid: subject.cid.toString() }
}

function takedownStore(ctx: PdsContext): TakedownStore {
  if (!ctx.storage.takedowns) {
    throw new MethodNotImplementedError(
      `Record and blob takedowns need a storage adapter with a takedown store (${ctx.storage.id} has none)`,
    )
  }
  return ctx.storage.takedowns
}

async function recordExists(ctx: PdsContext, uri: string, did: string): Promise<boolean> {
  const [, , , collection, rkey] = uri.split('/')
  return ctx.storage.repo.read(did, async (r) => (await r.getRecord(collection!, rkey!)) !== null)
}

/**
 * Apply the statuses of updateSubjectStatus. `deactivated` applies to accounts only. Unknown accounts
 * and blobs are 400s; a record takedown may precede (or outlive) the record itself, as in the reference.
 */
export async function updateSubjectStatus(
  ctx: PdsContext,
  subject: TakedownSubject,
  status: { takedown?: StatusAttr; deactivated?: StatusAttr },
): Promise<void> {
  if (subject.kind === 'account') {
    if (status.takedown)
      await setAccountTakedown(ctx, subject.did, status.takedown.applied, status.takedown.ref)
    if (status.deactivated) await setAccountActive(ctx, subject.did, !status.deactivated.applied)
    return
  }
  if (status.deactivated) throw new InvalidRequestError('Only accounts can be deactivated')
  if (!status.takedown) return
  const store = takedownStore(ctx)
  await requireAccount(ctx, subject.did)
  const { applied, ref } = status.takedown
  if (subject.kind === 'record') {
    if (applied) await store.put(subject.uri, ref ?? 'takedown')
    else await store.remove(subject.uri)
    return
  }
  if (!(await ctx.storage.blobs.get(subject.did, subject.cid))) {
    throw new InvalidRequestError(`Blob not found: ${subject.cid}`, 'BlobNotFound')
  }
  // The blob row's flag is what getBlob checks; the takedown row keeps the ref.
  await ctx.storage.blobs.setTakedown(subject.did, subject.cid, applied)
  if (applied) await store.put(blobSubject(subject.did, subject.cid), ref ?? 'takedown')
  else await store.remove(blobSubject(subject.did, subject.cid))
}

/** The takedown (and for accounts, deactivation) status of a subject; 400 `NotFound` when it does not exist. */
export async function getSubjectStatus(
  ctx: PdsContext,
  subject: TakedownSubject,
): Promise<{ takedown: StatusAttr; deactivated?: StatusAttr }> {
  const account = await ctx.storage.accounts.getByDid(subject.did)
  const notFound = () => new InvalidRequestError('Subject not found', 'NotFound')
  if (!account || account.status === 'deleted') throw notFound()
  if (subject.kind === 'account') {
    const row = await ctx.storage.takedowns?.get(subject.did)
    const applied = account.status === 'takendown'
    return {
      takedown: applied ? { applied, ref: row?.ref } : { applied },
      deactivated: { applied: account.status === 'deactivated' },
    }
  }
  if (subject.kind === 'record') {
    const row = await ctx.storage.takedowns?.get(subject.uri)
    if (!row && !(await recordExists(ctx, subject.uri, subject.did))) throw notFound()
    return { takedown: row ? { applied: true, ref: row.ref } : { applied: false } }
  }
  const blob = await ctx.storage.blobs.get(subject.did, subject.cid)
  if (!blob) throw notFound()
  const row = await ctx.storage.takedowns?.get(blobSubject(subject.did, subject.cid))
  return { takedown: blob.takedown ? { applied: true, ref: row?.ref } : { applied: false } }
}

/** The record URIs among `uris` that are taken down (empty without a takedown store). */
export async function takendownRecords(ctx: PdsContext, uris: string[]): Promise<Set<string>> {
  if (!ctx.storage.takedowns || uris.length === 0) return new Set()
  return new Set(await ctx.storage.takedowns.filter(uris))
}
