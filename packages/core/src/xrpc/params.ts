/**
 * Query-string parameters decoded by a lexicon `params` schema given at registration (methods without
 * one are decoded by the server's {@link Validator}, i.e. their lexicon).
 */
import type { CheckResolver } from '../lexicon/compile.js'
import { ValidationError } from '../lexicon/errors.js'
import { compileParams, type ParamsDecoder } from '../lexicon/params.js'
import type { LexDef } from '../lexicon/types.js'
import { InvalidRequestError } from './xrpc-error.js'

/** A scalar param as lexicon `params` allow it. */
export type ParamScalarSchema =
  | {
      type: 'string'
      format?: string
      minLength?: number
      maxLength?: number
      minGraphemes?: number
      maxGraphemes?: number
      enum?: string[]
      knownValues?: string[]
      const?: string
      default?: string
      description?: string
    }
  | {
      type: 'integer'
      minimum?: number
      maximum?: number
      enum?: number[]
      const?: number
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

const compiled = new WeakMap<ParamsSchema, ParamsDecoder>()
const noRefs: CheckResolver = {
  checkOf(uri) {
    throw new TypeError(`params can not refer to other definitions (${uri})`)
  },
}

/**
 * Decode `search` by `schema` with the lexicon engine's params decoder (compiled once per schema):
 * unknown keys are ignored (as the reference does), defaults applied, formats and lengths checked,
 * and every failure is a 400 naming the parameter.
 */
export function decodeParams(schema: ParamsSchema, search: URLSearchParams): Record<string, unknown> {
  let decode = compiled.get(schema)
  if (!decode) {
    decode = compileParams(schema as unknown as LexDef, 'params', noRefs)
    compiled.set(schema, decode)
  }
  try {
    return decode(search)
  } catch (err) {
    if (err instanceof ValidationError) throw new InvalidRequestError(err.message, undefined, { cause: err })
    throw err
  }
}
