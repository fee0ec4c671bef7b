/**
 * Errors of the data model: bytes or JSON from outside that are not valid atproto data. XRPC answers
 * them with 400 InvalidRequest (xrpc-error.ts).
 */

/** Base class of data-model errors. */
export class DataError extends Error {
  override name = 'DataError'
}

/** A JSON value that does not map onto the atproto data model. */
export class InvalidJsonDataError extends DataError {
  override name = 'InvalidJsonDataError'
}

/** Which rule of strict DAG-CBOR (DRISL) an input broke. */
export type CborErrorCode =
  | 'not-bytes'
  | 'too-large'
  | 'too-deep'
  | 'truncated'
  | 'trailing-bytes'
  | 'non-minimal'
  | 'indefinite-length'
  | 'reserved'
  | 'integer-range'
  | 'invalid-utf8'
  | 'map-key-type'
  | 'map-key-order'
  | 'duplicate-key'
  | 'float'
  | 'undefined'
  | 'simple-value'
  | 'tag'
  | 'cid'
  | 'cid-codec'

/** Bytes that are not strict DAG-CBOR within the atproto data model. */
export class InvalidCborError extends DataError {
  override name = 'InvalidCborError'
  constructor(
    readonly code: CborErrorCode,
    message: string,
    /** Byte offset where decoding stopped. */
    readonly offset?: number,
  ) {
    super(offset === undefined ? message : `${message} (at byte ${offset})`)
  }
}

/** A CID (string or bytes) that does not parse, or is not one of the formats atproto allows. */
export class InvalidCidError extends DataError {
  override name = 'InvalidCidError'
}
