/**
 * The lexicon engine (lexicon.md): load and check lexicon documents, then validate records, XRPC
 * params, inputs, outputs and subscription messages with validators compiled once per definition.
 * @module
 */
export { builtinLexicons } from './builtin.js'
export { isCidLink, mimeAccepted } from './compile.js'
export { assertValidLexiconDoc, isValidRef } from './doc-check.js'
export { InvalidLexiconError, LexiconNotFoundError, ValidationError } from './errors.js'
export { assertRecordKey, Lexicons } from './lexicons.js'
export type { ParamsDecoder } from './params.js'
export type { LexDef, LexiconDoc, RecordKeyType } from './types.js'
export { type LexiconValidatorOptions, lexiconValidator } from './xrpc-validator.js'
