/**
 * Key pairs on P-256 and secp256k1: generate, import and export the raw 32-byte private scalar, sign.
 */
import { createPublicKey, type KeyObject, randomBytes } from 'node:crypto'
import { bytesToBigInt, type CurveInfo, curveOf, K256, type KeyAlg } from './curves.js'
import { formatDidKey } from './did-key.js'
import { InvalidPrivateKeyError } from './errors.js'
import { signK256Precomputed } from './nonces.js'
import { maybeNodePrivateKey, signCompact } from './sign.js'

/**
 * Something that signs as a did:key: repo commits and PLC operations take this shape (our
 * {@link Keypair} and `@atproto/crypto` key pairs both fit).
 */
export interface Signer {
  /** `did:key:…` of the public key. */
  did(): string
  /** Sign `msg` (hashed with sha-256 here): 64-byte compact, low-S. */
  sign(msg: Uint8Array): Promise<Uint8Array>
}

/** An ECDSA key pair. Create with {@link Keypair.generate} or {@link Keypair.fromPrivateBytes}. */
export class Keypair implements Signer {
  readonly jwtAlg: KeyAlg
  readonly #curve: CurveInfo
  readonly #privateKey: Uint8Array
  readonly #nodeKey: KeyObject | null
  /** The scalar as a bigint, for precomputed-nonce signing (secp256k1 with OpenSSL only, see nonces.ts). */
  readonly #d: bigint | null
  // Derived on first use: a signer loaded per write needs neither.
  #publicKey: Uint8Array | undefined
  #did: string | undefined

  protected constructor(alg: KeyAlg, privateKey: Uint8Array) {
    const curve = curveOf(alg)
    if (!(privateKey instanceof Uint8Array) || privateKey.length !== 32)
      throw new InvalidPrivateKeyError('A private key is 32 bytes')
    const d = bytesToBigInt(privateKey)
    if (d === 0n || d >= curve.n) throw new InvalidPrivateKeyError('Private key out of range for the curve')
    this.jwtAlg = alg
    this.#curve = curve
    this.#privateKey = Uint8Array.from(privateKey)
    this.#nodeKey = maybeNodePrivateKey(curve, this.#privateKey)
    this.#d = curve === K256 && this.#nodeKey ? d : null
  }

  #pub(): Uint8Array {
    if (!this.#publicKey) {
      this.#publicKey = this.#nodeKey
        ? compressedFromJwk(createPublicKey(this.#nodeKey).export({ format: 'jwk' }))
        : this.#curve.noble.getPublicKey(this.#privateKey, true)
    }
    return this.#publicKey
  }

  /** A fresh random key (secp256k1 by default, as the reference does). */
  static generate(alg: KeyAlg = 'ES256K'): Keypair {
    return new Keypair(alg, randomScalar(curveOf(alg)))
  }

  /** The key of a raw 32-byte private scalar. @throws InvalidPrivateKeyError */
  static fromPrivateBytes(alg: KeyAlg, privateKey: Uint8Array): Keypair {
    return new Keypair(alg, privateKey)
  }

  /** The raw 32-byte private scalar (a copy): store it, and re-import with {@link fromPrivateBytes}. */
  exportPrivateBytes(): Uint8Array {
    return Uint8Array.from(this.#privateKey)
  }

  /** The compressed public key (33 bytes). */
  publicKeyBytes(): Uint8Array {
    return Uint8Array.from(this.#pub())
  }

  did(): string {
    this.#did ??= formatDidKey(this.jwtAlg, this.#pub())
    return this.#did
  }

  /** Sign synchronously: sha-256 prehash, 64-byte compact, low-S. */
  signSync(msg: Uint8Array): Uint8Array {
    if (this.#d !== null) {
      const sig = signK256Precomputed(this.#d, msg)
      if (sig) return sig
    }
    return signCompact(this.#curve, this.#privateKey, this.#nodeKey, msg)
  }

  async sign(msg: Uint8Array): Promise<Uint8Array> {
    return this.signSync(msg)
  }
}

/** The compressed point of a public JWK: 02/03 by the parity of y, then x. */
function compressedFromJwk(jwk: JsonWebKey): Uint8Array {
  const x = Buffer.from(jwk.x!, 'base64url')
  const y = Buffer.from(jwk.y!, 'base64url')
  const out = new Uint8Array(33)
  out[0] = 2 | (y[y.length - 1]! & 1)
  out.set(x, 33 - x.length)
  return out
}

/** A uniformly random valid scalar (rejection sampling: out-of-range draws are astronomically rare). */
function randomScalar(curve: CurveInfo): Uint8Array {
  for (;;) {
    const bytes = new Uint8Array(randomBytes(32))
    const d = bytesToBigInt(bytes)
    if (d > 0n && d < curve.n) return bytes
  }
}
