/**
 * DPoP (RFC 9449) proof verification and server nonces, for the token endpoints and the resource
 * server alike.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { calculateJwkThumbprint, EmbeddedJWK, type JWK, type JWTPayload, jwtVerify } from 'jose'
import { InvalidDpopProofError, UseDpopNonceError } from './errors.js'
import type { OAuthStore } from './store.js'

/** Signature algorithms accepted in DPoP proofs (ES256 first: the one every atproto client has). */
export const DPOP_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
  'RS256',
  'RS384',
  'RS512',
  'Ed25519',
  'EdDSA',
] as const

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const

/**
 * Server-issued DPoP nonces derived from a secret and a time step: HMAC(secret, step counter). Every
 * process with the same secret issues and accepts the same nonces without sharing state. The current,
 * previous and next steps are accepted, so a nonce lives at most three steps (spec: under 5 minutes)
 * and clients with requests in flight across a rotation are not bounced.
 */
export class DpopNonces {
  private readonly secret: Uint8Array
  private readonly cache = new Map<number, string>()

  /**
   * @param secret at least 32 random bytes, shared by all processes; random per process if omitted.
   * @param stepMs rotation period (default 60 s).
   */
  constructor(
    secret?: Uint8Array,
    readonly stepMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {
    if (secret && secret.length < 32) throw new TypeError('DPoP nonce secret must be at least 32 bytes')
    this.secret = secret ?? randomBytes(32)
    if (stepMs <= 0 || stepMs * 3 > 5 * 60_000) throw new TypeError('stepMs must be in (0, 100000]')
  }

  private forCounter(counter: number): string {
    let nonce = this.cache.get(counter)
    if (nonce === undefined) {
      const buf = Buffer.alloc(8)
      buf.writeBigUInt64BE(BigInt(counter))
      nonce = createHmac('sha256', this.secret).update(buf).digest('base64url')
      if (this.cache.size > 8) this.cache.clear()
      this.cache.set(counter, nonce)
    }
    return nonce
  }

  /** The nonce to send in `DPoP-Nonce` now. */
  current(): string {
    return this.forCounter(Math.floor(this.now() / this.stepMs))
  }

  /** Whether `nonce` is the current, previous or next step's nonce. */
  check(nonce: string): boolean {
    const counter = Math.floor(this.now() / this.stepMs)
    const given = Buffer.from(nonce)
    let ok = false
    for (const c of [counter - 1, counter, counter + 1]) {
      const expected = Buffer.from(this.forCounter(c))
      if (expected.length === given.length && timingSafeEqual(expected, given)) ok = true
    }
    return ok
  }
}

/** A verified DPoP proof. */
export interface DpopProof {
  /** JWK SHA-256 thumbprint of the proof key (what tokens are bound to, `cnf.jkt`). */
  jkt: string
  jti: string
  htm: string
  htu: string
  iat: number
  jwk: JWK
}

/** Options of {@link DpopVerifier}. */
export interface DpopVerifierOptions {
  /** Replay cache for `jti`. */
  store: Pick<OAuthStore, 'unique'>
  /** Server nonces; when set, every proof must carry a valid one (atproto requires it). */
  nonces?: DpopNonces
  /** Oldest accepted `iat`, in seconds (default 60). */
  maxAgeSec?: number
  /** Tolerated clock skew for `iat` in the future, in seconds (default 10). */
  clockSkewSec?: number
  algorithms?: readonly string[]
  now?: () => number
}

/** What a proof must match. */
export interface DpopCheck {
  /** The `DPoP` request header (null when absent). */
  proof: string | null
  /** HTTP method of the request. */
  method: string
  /** The URL the client addressed (public URL, not a proxy's internal one); query and fragment ignored. */
  url: string
  /** The access token presented with the proof (resource requests): `ath` must be its hash. */
  accessToken?: string
}

/**
 * Normalize an HTTP URI for `htu` comparison (RFC 9449 §4.3): scheme and host lower-cased, default port
 * dropped, no query or fragment. Null if not an http(s) URL.
 */
export function normalizeHtu(value: string): string | null {
  if (!URL.canParse(value)) return null
  const url = new URL(value)
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null
  return `${url.origin}${url.pathname}`
}

/** base64url(SHA-256(token)): the `ath` claim. */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}

/** Verifies DPoP proofs: signature by the embedded public key, `typ`, `htm`, `htu`, `iat`, nonce, `jti`, `ath`. */
export class DpopVerifier {
  readonly nonces: DpopNonces | undefined
  private readonly maxAge: number
  private readonly skew: number
  private readonly algorithms: string[]
  private readonly now: () => number

  constructor(private readonly options: DpopVerifierOptions) {
    this.nonces = options.nonces
    this.maxAge = options.maxAgeSec ?? 60
    this.skew = options.clockSkewSec ?? 10
    this.algorithms = [...(options.algorithms ?? DPOP_ALGORITHMS)]
    this.now = options.now ?? Date.now
  }

  /**
   * Verify a proof. @throws {InvalidDpopProofError} when it is missing or invalid;
   * {@link UseDpopNonceError} when the nonce is missing or stale (the error carries a fresh one).
   */
  async verify(check: DpopCheck): Promise<DpopProof> {
    const { proof } = check
    if (!proof) throw new InvalidDpopProofError('DPoP proof required')
    if (proof.includes(',')) throw new InvalidDpopProofError('Exactly one DPoP proof is allowed')
    let payload: JWTPayload
    let jwk: JWK
    try {
      const result = await jwtVerify(proof, EmbeddedJWK, {
        typ: 'dpop+jwt',
        algorithms: this.algorithms,
        // iat is checked below with our own window; jose would also reject a missing one.
        requiredClaims: ['iat', 'jti'],
        currentDate: new Date(this.now()),
      })
      payload = result.payload
      jwk = result.protectedHeader.jwk as JWK
    } catch (err) {
      throw new InvalidDpopProofError(`Invalid DPoP proof: ${(err as Error).message}`, { cause: err })
    }
    for (const member of PRIVATE_JWK_MEMBERS) {
      if (member in jwk) throw new InvalidDpopProofError('DPoP proof key must be a public key')
    }
    const { htm, htu, iat, jti, nonce, ath } = payload as JWTPayload & Record<string, unknown>
    if (typeof jti !== 'string' || jti.length < 8 || jti.length > 256) {
      throw new InvalidDpopProofError('DPoP proof "jti" must be a string of 8 to 256 characters')
    }
    if (htm !== check.method.toUpperCase()) throw new InvalidDpopProofError('DPoP "htm" mismatch')
    const expected = normalizeHtu(check.url)
    if (typeof htu !== 'string' || normalizeHtu(htu) === null || normalizeHtu(htu) !== expected) {
      throw new InvalidDpopProofError('DPoP "htu" mismatch')
    }
    const nowSec = this.now() / 1000
    if (typeof iat !== 'number' || iat < nowSec - this.maxAge || iat > nowSec + this.skew) {
      throw new InvalidDpopProofError('DPoP proof "iat" is outside the accepted window')
    }
    if (check.accessToken !== undefined) {
      if (typeof ath !== 'string') throw new InvalidDpopProofError('DPoP proof "ath" required')
      const want = Buffer.from(accessTokenHash(check.accessToken))
      const got = Buffer.from(ath)
      if (want.length !== got.length || !timingSafeEqual(want, got)) {
        throw new InvalidDpopProofError('DPoP "ath" does not match the access token')
      }
    }
    if (this.nonces) {
      if (typeof nonce !== 'string') throw new UseDpopNonceError('DPoP nonce required', this.nonces.current())
      if (!this.nonces.check(nonce)) {
        throw new UseDpopNonceError('DPoP nonce is stale or invalid', this.nonces.current())
      }
    }
    const jkt = await calculateJwkThumbprint(jwk, 'sha256')
    // Checked last so that only otherwise valid proofs occupy the replay cache.
    const ttlMs = (this.maxAge + this.skew) * 1000 + 1000
    if (!(await this.options.store.unique('dpop-jti', `${jkt}:${jti}`, ttlMs))) {
      throw new InvalidDpopProofError('DPoP proof replayed')
    }
    return { jkt, jti, htm, htu, iat, jwk }
  }
}
