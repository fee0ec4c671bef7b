/** Why a PLC operation or log was rejected. */
export type PlcValidationCode =
  | 'MalformedOperation'
  | 'OperationTooLarge'
  | 'UnsupportedKey'
  | 'InvalidSignature'
  | 'GenesisHash'
  | 'MisorderedOperation'
  | 'LateRecovery'
  | 'Tombstoned'
  | 'RateLimited'
  | 'InvalidAuditLog'

/** A PLC operation or operation log failed validation. Served as HTTP 400 by the directory. */
export class PlcValidationError extends Error {
  override name = 'PlcValidationError'
  constructor(
    readonly code: PlcValidationCode,
    message: string,
  ) {
    super(message)
  }
}

/** Another operation for the same DID was stored between validation and append; retry. */
export class PlcConflictError extends Error {
  override name = 'PlcConflictError'
  constructor(readonly did: string) {
    super(`Concurrent operation for ${did}`)
  }
}

/** A PLC directory answered with an error status (or not at all). */
export class PlcClientError extends Error {
  override name = 'PlcClientError'
  constructor(
    readonly status: number,
    message: string,
    readonly body?: unknown,
  ) {
    super(message)
  }
}
