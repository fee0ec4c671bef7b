/** Base class of identifier syntax errors; subclasses name the kind of identifier. */
export class InvalidSyntaxError extends Error {
  override name = 'InvalidSyntaxError'
}
export class InvalidDidError extends InvalidSyntaxError {
  override name = 'InvalidDidError'
}
export class InvalidHandleError extends InvalidSyntaxError {
  override name = 'InvalidHandleError'
}
export class InvalidNsidError extends InvalidSyntaxError {
  override name = 'InvalidNsidError'
}
export class InvalidTidError extends InvalidSyntaxError {
  override name = 'InvalidTidError'
}
export class InvalidRecordKeyError extends InvalidSyntaxError {
  override name = 'InvalidRecordKeyError'
}
export class InvalidAtUriError extends InvalidSyntaxError {
  override name = 'InvalidAtUriError'
}
export class InvalidDatetimeError extends InvalidSyntaxError {
  override name = 'InvalidDatetimeError'
}
export class InvalidLanguageError extends InvalidSyntaxError {
  override name = 'InvalidLanguageError'
}
export class InvalidCidStringError extends InvalidSyntaxError {
  override name = 'InvalidCidStringError'
}
