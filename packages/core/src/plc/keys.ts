/** The key operations PLC and identity use, from the crypto module. */
export {
  didKeyFromRawPublicKey,
  formatMultikey,
  type ParsedDidKey,
  parseDidKey,
  parseMultikey,
  type Signer,
  verifySignature,
} from '../crypto/index.js'
