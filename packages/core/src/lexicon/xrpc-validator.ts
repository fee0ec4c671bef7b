/** The lexicon engine as the XRPC server's validation hook. */
import type { Validator } from '../xrpc/types.js'
import { builtinLexicons } from './builtin.js'
import type { Lexicons } from './lexicons.js'

/** Options of {@link lexiconValidator}. */
export interface LexiconValidatorOptions {
  /** Also validate JSON outputs and subscription messages (a mismatch is a 500): tests and development. */
  validateOutput?: boolean
}

/**
 * A {@link Validator} backed by `lexicons` (default: the shipped set): params decoded and checked,
 * JSON inputs checked (failures are 400 InvalidRequest naming the field), outputs optionally. Methods
 * without a lexicon pass through.
 */
export function lexiconValidator(
  lexicons: Lexicons = builtinLexicons(),
  options: LexiconValidatorOptions = {},
): Validator {
  return {
    params: (nsid, raw) => lexicons.assertValidParams(nsid, raw),
    input(nsid, body) {
      lexicons.assertValidInput(nsid, body)
      return body
    },
    output: options.validateOutput ? (nsid, body) => lexicons.assertValidOutput(nsid, body) : undefined,
    message: options.validateOutput
      ? (nsid, message) => {
          // Handlers may name the frame type in `t` instead of `$type` (see messageToFrame).
          const m = message as { $type?: unknown; t?: unknown }
          const typed = m.$type === undefined && typeof m.t === 'string' ? { ...m, $type: m.t } : m
          lexicons.assertValidMessage(nsid, typed)
        }
      : undefined,
  }
}
