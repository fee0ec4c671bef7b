/** Base class of storage errors. */
export class StorageError extends Error {
  override name = 'StorageError'
}

/** The database cannot be reached (down, wrong URL, credentials). */
export class StorageUnavailableError extends StorageError {
  override name = 'StorageUnavailableError'
}

/** The database is reachable but its schema is missing or outdated; the message names the fixing command. */
export class StorageNotMigratedError extends StorageError {
  override name = 'StorageNotMigratedError'
}

/** A unique value (DID, handle, email, app password name) already exists. */
export class UniqueConstraintError extends StorageError {
  override name = 'UniqueConstraintError'
  constructor(
    readonly field: string,
    message = `${field} already exists`,
  ) {
    super(message)
  }
}

/** A required optional part of the adapter is missing (e.g. OAuth state for the OAuth service). */
export class StorageCapabilityError extends StorageError {
  override name = 'StorageCapabilityError'
}
