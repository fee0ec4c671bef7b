import { lexiconDocs } from '../lexicons/schemas.js'
import type { ParamsSchema } from '../xrpc/params.js'

const byId = new Map<string, { defs: Record<string, { parameters?: unknown }> }>(
  (lexiconDocs as unknown as Array<{ id: string; defs: Record<string, { parameters?: unknown }> }>).map(
    (d) => [d.id, d],
  ),
)

/** The `parameters` of a query/procedure as its lexicon declares them (the single source of truth). */
export function paramsOf(nsid: string): ParamsSchema {
  const params = byId.get(nsid)?.defs.main?.parameters
  if (!params) throw new TypeError(`lexicon ${nsid} declares no parameters`)
  return params as ParamsSchema
}
