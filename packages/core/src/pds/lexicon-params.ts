import { builtinLexicons } from '../lexicon/builtin.js'
import type { ParamsSchema } from '../xrpc/params.js'

/** The `parameters` of a query/procedure as its lexicon declares them (the single source of truth). */
export function paramsOf(nsid: string): ParamsSchema {
  const params = builtinLexicons().getDef(nsid)?.parameters
  if (!params) throw new TypeError(`lexicon ${nsid} declares no parameters`)
  return params as ParamsSchema
}
