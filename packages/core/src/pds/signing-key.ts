/**
 * Account repo signing keys (secp256k1, as the reference PDS uses).
 * @TODO use the crypto module's Secp256k1Keypair once it lands (same behaviour: compact low-S over sha-256).
 */
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { sha256 } from '../data/cid.js'
import { formatMultikey } from '../plc/keys.js'
import type { Signer } from '../repo/commit.js'

/** A secp256k1 signer over a raw 32-byte private key. */
export class AccountSigningKey implements Signer {
  readonly jwtAlg = 'ES256K' as const
  readonly #didKey: string

  private constructor(readonly privateKey: Uint8Array) {
    this.#didKey = `did:key:${formatMultikey('ES256K', secp256k1.getPublicKey(privateKey, true))}`
  }

  /** A fresh random key. */
  static generate(): AccountSigningKey {
    return new AccountSigningKey(secp256k1.utils.randomSecretKey())
  }

  /** The key from its stored private bytes. */
  static fromBytes(privateKey: Uint8Array): AccountSigningKey {
    return new AccountSigningKey(privateKey)
  }

  did(): string {
    return this.#didKey
  }

  async sign(msg: Uint8Array): Promise<Uint8Array> {
    // Pre-hash with node:crypto (fast) and sign the digest; noble emits low-S compact signatures.
    return secp256k1.sign(sha256(msg), this.privateKey, { prehash: false, lowS: true, format: 'compact' })
  }
}
