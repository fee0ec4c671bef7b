/**
 * Syntax of the string formats of lexicon.md: datetimes, language tags, AT URIs, CIDs and generic URIs.
 */

import { InvalidAtUriError, InvalidDatetimeError, InvalidLanguageError } from './errors.js'
import { isValidDid, isValidHandle, isValidNsid, isValidRecordKey } from './identifiers.js'

// RFC 3339 as lexicon.md narrows it: upper-case T and Z, seconds required, a time zone required.
const DATETIME_RE =
  /^[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-6][0-9]:[0-6][0-9](\.[0-9]{1,20})?(Z|[+-][0-2][0-9]:[0-5][0-9])$/

/** Datetime syntax (not whether the date exists: see {@link parseDatetime}). */
export function isValidDatetimeSyntax(s: string): boolean {
  return s.length <= 64 && DATETIME_RE.test(s) && !s.endsWith('-00:00')
}

/** A datetime that is well-formed and names a real instant (year 0 and impossible dates refused). */
export function parseDatetime(s: string): Date {
  if (!isValidDatetimeSyntax(s)) throw new InvalidDatetimeError(`Invalid datetime: ${JSON.stringify(s)}`)
  const [hh, mm, ss] = s.slice(11, 19).split(':').map(Number) as [number, number, number]
  if (hh > 23 || mm > 59 || ss > 60)
    throw new InvalidDatetimeError(`Datetime does not exist: ${JSON.stringify(s)}`)
  const date = new Date(s)
  if (Number.isNaN(date.getTime()) || s.startsWith('0000')) {
    throw new InvalidDatetimeError(`Datetime does not exist: ${JSON.stringify(s)}`)
  }
  // JS rolls impossible days over (Feb 30 -> Mar 2): compare the calendar fields written.
  const [y, m, d] = s.slice(0, 10).split('-').map(Number) as [number, number, number]
  const offset = s.endsWith('Z')
    ? 0
    : (s.at(-6) === '-' ? -1 : 1) * (Number(s.slice(-5, -3)) * 60 + Number(s.slice(-2)))
  const local = new Date(date.getTime() + offset * 60_000)
  if (local.getUTCFullYear() !== y || local.getUTCMonth() + 1 !== m || local.getUTCDate() !== d) {
    throw new InvalidDatetimeError(`Datetime does not exist: ${JSON.stringify(s)}`)
  }
  return date
}

/** Full datetime validity (syntax and a real instant). */
export function isValidDatetime(s: string): boolean {
  try {
    parseDatetime(s)
    return true
  } catch {
    return false
  }
}

// BCP 47 (RFC 5646) language tag grammar: langtag, private use, or a grandfathered tag.
const LANG_RE =
  /^((?<grandfathered>(en-GB-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo|i-navajo|i-pwn|i-tao|i-tay|i-tsu|sgn-BE-FR|sgn-BE-NL|sgn-CH-DE)|(art-lojban|cel-gaulish|no-bok|no-nyn|zh-guoyu|zh-hakka|zh-min|zh-min-nan|zh-xiang))|((?<language>([a-z]{2,3}(-(?<extlang>[A-Za-z]{3}(-[A-Za-z]{3}){0,2}))?)|[a-z]{5,8})(-(?<script>[A-Za-z]{4}))?(-(?<region>[A-Za-z]{2}|[0-9]{3}))?(-(?<variant>[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*(-(?<extension>[0-9A-WY-Za-wy-z](-[A-Za-z0-9]{2,8})+))*(-(?<privateUseA>[xX](-[A-Za-z0-9]{1,8})+))?)|(?<privateUseB>[xX](-[A-Za-z0-9]{1,8})+))$/

/** BCP 47 language tag syntax (lower-case primary language; 4-letter languages are reserved). */
export const isValidLanguage = (s: string): boolean => LANG_RE.test(s)

/**
 * A language tag that is also valid per RFC 5646 §2.2.9: no variant and no extension singleton
 * repeated (case-insensitively).
 */
export function isValidLanguageTag(s: string): boolean {
  if (!isValidLanguage(s)) return false
  const subtags = s.toLowerCase().split('-')
  const privateAt = subtags.indexOf('x')
  const main = privateAt === -1 ? subtags : subtags.slice(0, privateAt)
  const variants = new Set<string>()
  const singletons = new Set<string>()
  let inExtension = false
  for (const [i, t] of main.entries()) {
    if (i === 0) continue
    if (t.length === 1) {
      if (singletons.has(t)) return false
      singletons.add(t)
      inExtension = true
    } else if (!inExtension && (t.length >= 5 || (/^[0-9]/.test(t) && t.length === 4))) {
      if (variants.has(t)) return false
      variants.add(t)
    }
  }
  return true
}
export function ensureValidLanguage(s: string): void {
  if (!isValidLanguage(s)) throw new InvalidLanguageError(`Invalid language tag: ${JSON.stringify(s)}`)
}

/** CID string syntax (the shape only; decoding is the data module's). */
export const isValidCidString = (s: string): boolean =>
  /^[a-zA-Z0-9+=]{8,256}$/.test(s) && !s.startsWith('Qmb')

/** A generic URI (scheme, then no white space), at most 8 KiB. */
export const isValidUri = (s: string): boolean => s.length <= 8192 && /^[a-z][a-z.+-]*:\S+$/.test(s)

/** A parsed AT URI. */
export interface AtUriParts {
  authority: string
  collection?: string
  rkey?: string
  fragment?: string
}

const ATURI_RE =
  /^at:\/\/([a-zA-Z0-9._:%-]+)(\/([a-zA-Z0-9-.]+)(\/([a-zA-Z0-9._~:@!$&%')(*+,;=-]+))?)?(#(\/[a-zA-Z0-9._~:@!$&%')(*+,;=\-[\]/\\]*))?$/

/** Parse an AT URI with the strict syntax of at-uri-scheme.md. @throws InvalidAtUriError */
export function parseAtUri(s: string): AtUriParts {
  const fail = (why: string) => new InvalidAtUriError(`Invalid AT URI (${why}): ${JSON.stringify(s)}`)
  if (s.length > 8192) throw fail('too long')
  const m = ATURI_RE.exec(s)
  if (!m) throw fail('syntax')
  const [, authority, , collection, , rkey, , fragment] = m as unknown as Array<string | undefined>
  if (!isValidDid(authority!) && !isValidHandle(authority!)) throw fail('authority')
  if (collection !== undefined && !isValidNsid(collection)) throw fail('collection')
  if (rkey !== undefined && !isValidRecordKey(rkey)) throw fail('record key')
  return { authority: authority!, collection, rkey, fragment }
}

/** Whether an AT URI is valid. */
export function isValidAtUri(s: string): boolean {
  try {
    parseAtUri(s)
    return true
  } catch {
    return false
  }
}

/** Format AT URI parts back into a string. */
export function formatAtUri(parts: AtUriParts): string {
  let out = `at://${parts.authority}`
  if (parts.collection) out += `/${parts.collection}`
  if (parts.collection && parts.rkey) out += `/${parts.rkey}`
  if (parts.fragment) out += `#${parts.fragment}`
  return out
}
