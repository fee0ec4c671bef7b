/** Base class of identity resolution failures. */
export class IdentityError extends Error {
  override name = 'IdentityError'
}

/** The string is not a syntactically valid DID (or not a hostname-level did:web). */
export class PoorlyFormattedDidError extends IdentityError {
  override name = 'PoorlyFormattedDidError'
  constructor(
    readonly did: string,
    reason?: string,
  ) {
    super(`Poorly formatted DID: ${did}${reason ? ` (${reason})` : ''}`)
  }
}

/** A valid DID of a method atproto does not support (only did:plc and did:web are). */
export class UnsupportedDidMethodError extends IdentityError {
  override name = 'UnsupportedDidMethodError'
  constructor(readonly did: string) {
    super(`Unsupported DID method: ${did}`)
  }
}

/** The DID does not exist (404), or was tombstoned (`deactivated`). */
export class DidNotFoundError extends IdentityError {
  override name = 'DidNotFoundError'
  constructor(
    readonly did: string,
    readonly deactivated = false,
  ) {
    super(deactivated ? `DID deactivated: ${did}` : `DID not found: ${did}`)
  }
}

/** The resolved document is not a valid DID document for the requested DID. */
export class InvalidDidDocumentError extends IdentityError {
  override name = 'InvalidDidDocumentError'
  constructor(
    readonly did: string,
    reason: string,
  ) {
    super(`Invalid DID document for ${did}: ${reason}`)
  }
}

/** The handle is not a valid handle, or one that must never resolve (.local, .onion, …). */
export class InvalidHandleError extends IdentityError {
  override name = 'InvalidHandleError'
  constructor(readonly handle: string) {
    super(`Invalid handle: ${handle}`)
  }
}

/** Neither DNS nor HTTPS resolution of the handle produced a DID. */
export class HandleNotFoundError extends IdentityError {
  override name = 'HandleNotFoundError'
  constructor(readonly handle: string) {
    super(`Handle does not resolve: ${handle}`)
  }
}

/** Resolution failed for a transient reason (network, timeout, server error). */
export class IdentityResolutionError extends IdentityError {
  override name = 'IdentityResolutionError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}
