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

/** The handle is held by another account (create or updateHandle). */
export class HandleTakenError extends UniqueConstraintError {
  override name = 'HandleTakenError'
  constructor(
    readonly handle: string,
    message = `handle ${handle} is already taken`,
  ) {
    super('handle', message)
  }
}

/**
 * A write could not be serialized with a concurrent one (lock wait timed out, serialization failure
 * the adapter could not retry). Nothing was written; the caller may retry the whole unit of work.
 */
export class ConcurrentWriteError extends StorageError {
  override name = 'ConcurrentWriteError'
}

/** A write was attempted through a read-only view (a repo reader outside `transact`). */
export class StorageReadOnlyError extends StorageError {
  override name = 'StorageReadOnlyError'
}

/** A blob stream exceeded the size limit while it was being stored; nothing was kept. */
export class BlobTooLargeError extends StorageError {
  override name = 'BlobTooLargeError'
  constructor(
    readonly maxSize: number,
    message = `blob is larger than ${maxSize} bytes`,
  ) {
    super(message)
  }
}

/** A temporary blob key (or permanent blob) the operation needs does not exist. */
export class BlobNotFoundError extends StorageError {
  override name = 'BlobNotFoundError'
}
