/**
 * XRPC query parameters by a lexicon `params` definition: decode the strings of a query string into
 * booleans, integers and strings (arrays repeat the parameter), apply defaults, then run the same
 * compiled field checks as data (formats, lengths, graphemes, enums).
 */
import { type CheckResolver, compileField, failurePath } from './compile.js'
import { ValidationError } from './errors.js'
import type { LexDef } from './types.js'

/** Decode and validate raw params (a query string, or values already typed); throws ValidationError. */
export type ParamsDecoder = (raw: URLSearchParams | Record<string, unknown>) => Record<string, unknown>

const INT_RE = /^-?(0|[1-9][0-9]*)$/

function decodeScalar(name: string, type: string, raw: string): string | number | boolean {
  if (type === 'integer') {
    const n = Number(raw)
    if (!INT_RE.test(raw) || !Number.isSafeInteger(n)) throw new ValidationError(`${name} must be an integer`)
    return n
  }
  if (type === 'boolean') {
    if (raw === 'true') return true
    if (raw === 'false') return false
    throw new ValidationError(`${name} must be a boolean`)
  }
  return raw
}

/** Compile a `params` definition made inside document `docId`. */
export function compileParams(def: LexDef, docId: string, r: CheckResolver): ParamsDecoder {
  const props = Object.entries((def.properties ?? {}) as Record<string, LexDef>).map(([name, d]) => ({
    name,
    type: d.type,
    itemType: d.type === 'array' ? (d.items as LexDef).type : d.type,
    fallback: d.default,
    check: compileField(d, docId, r),
  }))
  const required = (def.required as string[] | undefined) ?? []
  return (raw) => {
    const out: Record<string, unknown> = Object.create(null)
    const search = raw instanceof URLSearchParams ? raw : undefined
    for (const p of props) {
      let value: unknown
      if (search) {
        // An empty value of a non-string param is an absent one: the reference clients send `cursor=`
        // for an undefined cursor (@atproto/xrpc-server's subscription client does).
        const values = search.getAll(p.name).filter((v) => v !== '' || p.itemType === 'string')
        if (p.type === 'array') {
          if (values.length > 0) value = values.map((v) => decodeScalar(p.name, p.itemType, v))
        } else if (values.length > 1) throw new ValidationError(`${p.name} must be a single value`)
        else if (values.length === 1) value = decodeScalar(p.name, p.type, values[0]!)
      } else value = (raw as Record<string, unknown>)[p.name]
      if (value === undefined) value = p.fallback
      if (value === undefined) continue
      const f = p.check(value)
      if (f) throw new ValidationError(`${failurePath(p.name, f)} ${f.message}`)
      out[p.name] = value
    }
    for (const name of required) {
      if (out[name] === undefined) throw new ValidationError(`Params must have the property "${name}"`)
    }
    return out
  }
}
