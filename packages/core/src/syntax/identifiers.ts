/**
 * Syntax of atproto identifiers (did.md, handle.md, nsid.md, record-key.md, tid.md): validation with
 * typed errors. Each check is one anchored regex plus length bounds: they run on every request.
 */
import {
  InvalidDidError,
  InvalidHandleError,
  InvalidNsidError,
  InvalidRecordKeyError,
  type InvalidSyntaxError,
  InvalidTidError,
} from './errors.js'

const DID_RE = /^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$/
const HANDLE_RE = /^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/
const NSID_RE =
  /^[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+\.[a-zA-Z][a-zA-Z0-9]{0,62}$/
const TID_RE = /^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/
const RKEY_RE = /^[a-zA-Z0-9_~.:-]{1,512}$/

const check =
  (test: (s: string) => boolean, Err: new (m: string) => InvalidSyntaxError, what: string) =>
  (s: string): void => {
    if (!test(s))
      throw new Err(`Invalid ${what}: ${JSON.stringify(s.length > 100 ? `${s.slice(0, 100)}…` : s)}`)
  }

/** A DID of any method (did.md syntax; at most 2 KiB). */
export const isValidDid = (s: string): boolean => s.length <= 2048 && DID_RE.test(s)
export const ensureValidDid = check(isValidDid, InvalidDidError, 'DID')

/** A handle (handle.md: DNS name, at most 253 chars, last label not starting with a digit). */
export const isValidHandle = (s: string): boolean => s.length <= 253 && HANDLE_RE.test(s)
export const ensureValidHandle = check(isValidHandle, InvalidHandleError, 'handle')
/** Handles compare case-insensitively: the normal form is lower case. */
export const normalizeHandle = (s: string): string => s.toLowerCase()

/** A DID or a handle. */
export const isValidAtIdentifier = (s: string): boolean => isValidDid(s) || isValidHandle(s)

/** An NSID (nsid.md: reversed domain authority, then a name; at most 317 chars). */
export const isValidNsid = (s: string): boolean => s.length <= 317 && NSID_RE.test(s)
export const ensureValidNsid = check(isValidNsid, InvalidNsidError, 'NSID')

/** An NSID split into its authority (domain order) and name. */
export function parseNsid(s: string): { authority: string; name: string; segments: string[] } {
  ensureValidNsid(s)
  const segments = s.split('.')
  return { authority: segments.slice(0, -1).reverse().join('.'), name: segments.at(-1)!, segments }
}

/** A TID (tid.md: 13 base32-sortable chars, top bit zero). */
export const isValidTid = (s: string): boolean => TID_RE.test(s)
export const ensureValidTid = check(isValidTid, InvalidTidError, 'TID')

/** A record key (record-key.md: 1-512 chars of a restricted set, not `.` or `..`). */
export const isValidRecordKey = (s: string): boolean => s !== '.' && s !== '..' && RKEY_RE.test(s)
export const ensureValidRecordKey = check(isValidRecordKey, InvalidRecordKeyError, 'record key')
