/** Shapes of lexicon documents and definitions (lexicon.md), as the engine reads them. */

/** Any schema definition: `type` plus the type-specific fields lexicon.md lists. */
export interface LexDef {
  readonly type: string
  readonly description?: string
  readonly [field: string]: unknown
}

/** A lexicon document: one NSID, one or more named definitions. */
export interface LexiconDoc {
  readonly lexicon: 1
  readonly id: string
  readonly revision?: number
  readonly description?: string
  readonly defs: { readonly [name: string]: LexDef }
}

/** The record key types a `record` definition may declare. */
export type RecordKeyType = 'tid' | 'nsid' | 'any' | `literal:${string}`

/** The primary definition types: allowed only as `main`. */
export const PRIMARY_TYPES: ReadonlySet<string> = new Set([
  'record',
  'query',
  'procedure',
  'subscription',
  'permission-set',
])

/** The string formats of lexicon.md. */
export const STRING_FORMATS: ReadonlySet<string> = new Set([
  'at-identifier',
  'at-uri',
  'cid',
  'datetime',
  'did',
  'handle',
  'nsid',
  'tid',
  'record-key',
  'uri',
  'language',
])
