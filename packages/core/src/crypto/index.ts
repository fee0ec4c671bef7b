/**
 * Crypto of cryptography.md: P-256 and secp256k1 key pairs, did:key and multikey, strict low-S
 * compact ECDSA signatures over sha-256.
 * @module
 */
export { type CurveInfo, curveOf, K256, type KeyAlg, P256 } from './curves.js'
export {
  compressPublicKey,
  DID_KEY_PREFIX,
  didKeyFromRawPublicKey,
  formatDidKey,
  formatMultikey,
  type ParsedDidKey,
  parseDidKey,
  parseMultikey,
} from './did-key.js'
export { CryptoError, InvalidDidKeyError, InvalidPrivateKeyError } from './errors.js'
export { Keypair, type Signer } from './keys.js'
export { normalizeLowS } from './sign.js'
export {
  defaultVerifyBackend,
  isStrictCompactSignature,
  nobleBackend,
  nodeBackend,
  type VerifyBackend,
  type VerifyOptions,
  verifySignature,
  verifySignatureSync,
} from './verify.js'
