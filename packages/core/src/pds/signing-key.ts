/** Account repo signing keys: secp256k1, as the reference PDS uses. */
import { Keypair } from '../crypto/keys.js'

/** A secp256k1 key pair over a raw 32-byte private key (stored as `signingKey`). */
export class AccountSigningKey extends Keypair {
  private constructor(privateKey: Uint8Array) {
    super('ES256K', privateKey)
  }

  /** A fresh random key. */
  static override generate(): AccountSigningKey {
    return new AccountSigningKey(Keypair.generate('ES256K').exportPrivateBytes())
  }

  /** The key from its stored private bytes. @throws InvalidPrivateKeyError */
  static fromBytes(privateKey: Uint8Array): AccountSigningKey {
    return new AccountSigningKey(privateKey)
  }

  /** The raw private bytes, as stored. */
  get privateKey(): Uint8Array {
    return this.exportPrivateBytes()
  }
}
