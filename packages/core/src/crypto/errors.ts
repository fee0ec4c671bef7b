/** Base class of crypto errors (keys and did:keys; a bad signature is `false`, never an error). */
export class CryptoError extends Error {
  override name = 'CryptoError'
}

/** A did:key or multikey that is malformed, of an unsupported curve, or not a point on its curve. */
export class InvalidDidKeyError extends CryptoError {
  override name = 'InvalidDidKeyError'
}

/** Private key bytes that are not a valid scalar for the curve (32 bytes, 1 <= d < n). */
export class InvalidPrivateKeyError extends CryptoError {
  override name = 'InvalidPrivateKeyError'
}
