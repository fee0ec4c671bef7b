/** Errors of the lexicon engine. XRPC maps {@link ValidationError} to 400 InvalidRequest (xrpc-error.ts). */

/** Data does not match its lexicon. The message names the path, e.g. `Record/text must be a string`. */
export class ValidationError extends Error {
  override name = 'ValidationError'
}

/** A lexicon document (or a definition inside it) breaks the rules of lexicon.md. */
export class InvalidLexiconError extends Error {
  override name = 'InvalidLexiconError'
}

/** No loaded lexicon defines the requested NSID or `nsid#name`. */
export class LexiconNotFoundError extends Error {
  override name = 'LexiconNotFoundError'
}
