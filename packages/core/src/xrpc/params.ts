/**
 * Query-string parameters decoded by a plain lexicon-style `params` schema. The lexicon engine can take
 * over through {@link Validator.params}; this covers methods registered by hand.
 */
import { InvalidRequestError } from './xrpc-error.js'

/** A scalar param as lexicon `params` allow it. */
export type ParamScalarSchema =
  | {
      type: 'string'
      format?: string
      minLength?: number
      maxLength?: number
      enum?: string[]
      knownValues?: string[]
      default?: string
      description?: string
    }
  | {
      type: 'integer'
      minimum?: number
      maximum?: number
      enum?: number[]
      default?: number
      description?: string
    }
  | { type: 'boolean'; default?: boolean; description?: string }

/** One property of a params schema (arrays repeat the query parameter). */
export type ParamSchema =
  | ParamScalarSchema
  | { type: 'array'; items: ParamScalarSchema; minLength?: number; maxLength?: number; description?: string }

/** A lexicon `params` object. */
export interface ParamsSchema {
  type?: 'params'
  required?: string[]
  properties: Record<string, ParamSchema>
}

const INT_RE = /^-?(0|[1-9][0-9]*)$/

function decodeScalar(name: string, schema: ParamScalarSchema, raw: string): string | number | boolean {
  switch (schema.type) {
    case 'string': {
      // Lexicon string lengths count UTF-8 bytes; graphemes are the lexicon engine's job.
      const len = Buffer.byteLength(raw)
      if (schema.minLength !== undefined && len < schema.minLength)
        throw new InvalidRequestError(`${name} must not be shorter than ${schema.minLength} characters`)
      if (schema.maxLength !== undefined && len > schema.maxLength)
        throw new InvalidRequestError(`${name} must not be longer than ${schema.maxLength} characters`)
      if (schema.enum && !schema.enum.includes(raw))
        throw new InvalidRequestError(`${name} must be one of (${schema.enum.join('|')})`)
      return raw
    }
    case 'integer': {
      if (!INT_RE.test(raw)) throw new InvalidRequestError(`${name} must be an integer`)
      const n = Number(raw)
      if (!Number.isSafeInteger(n)) throw new InvalidRequestError(`${name} must be an integer`)
      if (schema.minimum !== undefined && n < schema.minimum)
        throw new InvalidRequestError(`${name} can not be less than ${schema.minimum}`)
      if (schema.maximum !== undefined && n > schema.maximum)
        throw new InvalidRequestError(`${name} can not be greater than ${schema.maximum}`)
      if (schema.enum && !schema.enum.includes(n))
        throw new InvalidRequestError(`${name} must be one of (${schema.enum.join('|')})`)
      return n
    }
    case 'boolean':
      if (raw === 'true') return true
      if (raw === 'false') return false
      throw new InvalidRequestError(`${name} must be a boolean`)
  }
}

/**
 * Decode `search` by `schema`: unknown keys are ignored (as the reference does), defaults applied,
 * and every failure is a 400 naming the parameter.
 */
export function decodeParams(schema: ParamsSchema, search: URLSearchParams): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null)
  for (const [name, prop] of Object.entries(schema.properties)) {
    // An empty value of a non-string param is an absent one: the reference clients send `cursor=` for
    // an undefined cursor (@atproto/xrpc-server's subscription client does).
    const values = search.getAll(name).filter((v) => v !== '' || prop.type === 'string')
    if (prop.type === 'array') {
      if (values.length === 0) continue
      if (prop.minLength !== undefined && values.length < prop.minLength)
        throw new InvalidRequestError(`${name} must not have fewer than ${prop.minLength} elements`)
      if (prop.maxLength !== undefined && values.length > prop.maxLength)
        throw new InvalidRequestError(`${name} must not have more than ${prop.maxLength} elements`)
      out[name] = values.map((v) => decodeScalar(name, prop.items, v))
      continue
    }
    if (values.length > 1) throw new InvalidRequestError(`${name} must be a single value`)
    if (values.length === 1) out[name] = decodeScalar(name, prop, values[0])
    else if (prop.default !== undefined) out[name] = prop.default
  }
  for (const name of schema.required ?? []) {
    if (out[name] === undefined) throw new InvalidRequestError(`Params must have the property "${name}"`)
  }
  return out
}
