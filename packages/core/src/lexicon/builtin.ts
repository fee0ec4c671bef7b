/** The lexicons shipped under `lexicons/` (com.atproto.*, the app.bsky.* records, the examples'). */
import { lexiconDocs } from '../lexicons/schemas.js'
import { Lexicons } from './lexicons.js'

let builtin: Lexicons | undefined

/**
 * The shared set of every shipped lexicon, loaded and checked once. Treat it as read-only: to add an
 * app's own lexicons, build a `new Lexicons([...lexiconDocs, ...yours])`.
 */
export function builtinLexicons(): Lexicons {
  builtin ??= new Lexicons(lexiconDocs as unknown as Iterable<unknown>)
  return builtin
}
