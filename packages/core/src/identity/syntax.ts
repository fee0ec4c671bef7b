/**
 * DID and handle syntax checks used by resolution.
 * @TODO switch to `../syntax/` (ensureValidDid / ensureValidHandle) once that module lands.
 */

const DID_RE = /^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$/
const HANDLE_RE = /^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/

/** Syntactically valid DID per the atproto DID spec (length ≤ 2048). */
export const isValidDid = (did: string): boolean => did.length <= 2048 && DID_RE.test(did)

/** Syntactically valid handle per the atproto handle spec (length ≤ 253). */
export const isValidHandle = (handle: string): boolean => handle.length <= 253 && HANDLE_RE.test(handle)

/** Lowercase a handle (handles are case-insensitive; only the lowercase form is used). */
export const normalizeHandle = (handle: string): string => handle.toLowerCase()

/** TLDs whose handles must always fail resolution (handle spec). */
export const DISALLOWED_TLDS = [
  '.local',
  '.arpa',
  '.invalid',
  '.localhost',
  '.internal',
  '.example',
  '.alt',
  '.onion',
]

/** A syntactically valid handle that may be resolved (not a disallowed TLD). */
export const isResolvableHandle = (handle: string): boolean =>
  isValidHandle(handle) && !DISALLOWED_TLDS.some((tld) => handle.toLowerCase().endsWith(tld))
