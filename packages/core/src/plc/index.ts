/**
 * did:plc: operations, validation, a PLC directory service and a client.
 * @packageDocumentation
 */
export { PlcClient, type PlcClientOptions, type PlcExportedOp } from './client.js'
export { createPlcDirectory, type PlcDirectory, type PlcDirectoryOptions } from './directory.js'
export { formatDidDoc } from './document.js'
export { PlcClientError, PlcConflictError, type PlcValidationCode, PlcValidationError } from './errors.js'
export {
  assureValidSig,
  cidForOp,
  createAtprotoUpdateOp,
  createGenesisOp,
  createTombstoneOp,
  createUpdateOp,
  didForGenesisOp,
  ensureAtprotoPrefix,
  ensureHttpPrefix,
  type GenesisOpOptions,
  isPlcDid,
  normalizeOp,
  parsePlcOperation,
  signPlcOperation,
  unsignedOpBytes,
} from './operations.js'
export { type PlcServiceOptions, plcService } from './service.js'
export { MemoryPlcStore, type PlcStore } from './store.js'
export type * from './types.js'
export {
  assertValidIncomingOp,
  assureValidCreationOp,
  assureValidNextOp,
  opToData,
  PLC_LIMITS,
  PLC_RECOVERY_WINDOW_MS,
  validateAuditLog,
  validateOperationLog,
} from './validate.js'
