/**
 * Reusable auth verifiers for XRPC methods: legacy session JWTs (HS256), inter-service JWTs (ES256 /
 * ES256K, key resolution and signature check injected so crypto stays decoupled), admin Basic auth,
 * and a dispatcher by `Authorization` scheme with a slot for DPoP-bound OAuth tokens.
 */
import { timingSafeEqual } from 'node:crypto'
import { type JWTPayload, errors as joseErrors, jwtVerify } from 'jose'
import type { AuthVerifier, RequestContext } from './types.js'
import { AuthRequiredError } from './xrpc-error.js'

/** `Authorization` split into scheme (lower-cased) and credentials. */
export function parseAuthorization(request: Request): { scheme: string; credentials: string } | null {
  const header = request.headers.get('authorization')
  if (!header) return null
  const space = header.indexOf(' ')
  if (space === -1) return { scheme: header.toLowerCase(), credentials: '' }
  return { scheme: header.slice(0, space).toLowerCase(), credentials: header.slice(space + 1).trim() }
}

/** Result of {@link sessionJwtVerifier}. */
export interface SessionAuth {
  type: 'session'
  did: string
  scope: string
  token: string
  payload: JWTPayload
}

/** Options of {@link sessionJwtVerifier}. */
export interface SessionJwtOptions {
  /** HS256 secret the PDS signs session tokens with. */
  secret: string | Uint8Array
  /** Scopes accepted (e.g. `com.atproto.access`, `com.atproto.appPass`); refresh tokens use `com.atproto.refresh`. */
  scopes: readonly string[]
  /** Expected `typ` header: `at+jwt` for access tokens, `refresh+jwt` for refresh tokens. */
  typ?: 'at+jwt' | 'refresh+jwt'
  /** Expected `aud` (the service DID). */
  audience?: string
}

/** Verified session tokens remembered per verifier. */
const VERIFIED_TOKENS = 10_000

/** Verify a legacy `Authorization: Bearer` session JWT (HS256). */
export function sessionJwtVerifier(
  options: SessionJwtOptions,
): (ctx: RequestContext) => Promise<SessionAuth> {
  const key = typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret
  // Tokens whose signature, typ and aud already verified (a client sends the same access token with
  // every request until it expires): a hit skips the HMAC and jose's key import, and only the expiry is
  // checked again. Bounded; the oldest entries go first.
  const verified = new Map<string, SessionAuth>()
  return async ({ request }) => {
    const auth = parseAuthorization(request)
    if (!auth) throw new AuthRequiredError(undefined, 'AuthMissing')
    if (auth.scheme !== 'bearer' || !auth.credentials) {
      throw new AuthRequiredError('Unexpected authorization type', 'InvalidToken')
    }
    const hit = verified.get(auth.credentials)
    if (hit) {
      if (typeof hit.payload.exp === 'number' && hit.payload.exp > Date.now() / 1000) return hit
      verified.delete(auth.credentials)
    }
    let payload: JWTPayload
    try {
      ;({ payload } = await jwtVerify(auth.credentials, key, {
        algorithms: ['HS256'],
        typ: options.typ ?? 'at+jwt',
        audience: options.audience,
      }))
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired)
        throw new AuthRequiredError('Token has expired', 'ExpiredToken')
      throw new AuthRequiredError('Token could not be verified', 'InvalidToken', { cause: err })
    }
    if (typeof payload.sub !== 'string' || !payload.sub.startsWith('did:')) {
      throw new AuthRequiredError('Malformed token', 'InvalidToken')
    }
    // DPoP-bound (OAuth) tokens must not be accepted as plain bearer tokens.
    if (payload.cnf !== undefined) throw new AuthRequiredError('Malformed token', 'InvalidToken')
    const scope = typeof payload.scope === 'string' ? payload.scope : ''
    if (!options.scopes.includes(scope)) throw new AuthRequiredError('Bad token scope', 'InvalidToken')
    const result: SessionAuth = { type: 'session', did: payload.sub, scope, token: auth.credentials, payload }
    // Only tokens that expire are remembered (jose accepts a token without `exp`; it is verified each time).
    if (typeof payload.exp === 'number') {
      if (verified.size >= VERIFIED_TOKENS) verified.delete(verified.keys().next().value!)
      verified.set(auth.credentials, result)
    }
    return result
  }
}

/** Claims of a verified service-auth JWT. */
export interface ServiceAuth {
  type: 'service'
  /** Issuer DID (the account the request is made for), without any legacy `#fragment`. */
  iss: string
  aud: string
  lxm: string | undefined
  jti: string | undefined
  exp: number
}

/** Options of {@link serviceJwtVerifier}. */
export interface ServiceJwtOptions<K> {
  /** Accepted `aud` values: this service's `did#serviceId` (and its bare DID only if legacy clients matter). */
  audience: string | readonly string[]
  /**
   * Signing key of `did` for the key id (`#atproto` unless the JWT names another `kid`). `forceRefresh`
   * is set on a second try after a bad signature, in case the key was just rotated.
   */
  resolveSigningKey(did: string, opts: { kid: string; forceRefresh: boolean }): Promise<K>
  /** Verify a compact (r||s) signature over `message` with `key`; `alg` is `ES256` or `ES256K`. */
  verifySignature(
    key: K,
    message: Uint8Array,
    signature: Uint8Array,
    alg: 'ES256' | 'ES256K',
  ): Promise<boolean> | boolean
  /** Require `lxm` to equal the called NSID (default true; the spec makes it required). */
  requireLxm?: boolean
  /**
   * Replay protection: return false when `jti` of issuer `iss` was seen before (remember it until
   * `exp`, in seconds). Tokens without a `jti` are then refused.
   */
  checkReplay?(jti: string, exp: number, iss: string): Promise<boolean> | boolean
  /** Key ids accepted in the `kid` header (default `#atproto` only). */
  allowedKids?: readonly string[]
}

const DID_RE = /^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$/
const BAD = (message: string, error = 'BadJwt') => new AuthRequiredError(message, error)

function decodeJson(part: string): Record<string, unknown> {
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
    if (v && typeof v === 'object' && !Array.isArray(v)) return v
  } catch {}
  throw BAD('poorly formatted jwt')
}

/** Verify an inter-service JWT (`Authorization: Bearer`), as xrpc.md "Inter-Service Authentication" describes. */
export function serviceJwtVerifier<K>(
  options: ServiceJwtOptions<K>,
): (ctx: RequestContext) => Promise<ServiceAuth> {
  const audiences = typeof options.audience === 'string' ? [options.audience] : options.audience
  const kids = options.allowedKids ?? ['#atproto']
  return async ({ request, nsid }) => {
    const auth = parseAuthorization(request)
    if (!auth) throw new AuthRequiredError(undefined, 'AuthMissing')
    if (auth.scheme !== 'bearer') throw BAD('Unexpected authorization type')
    const parts = auth.credentials.split('.')
    if (parts.length !== 3) throw BAD('poorly formatted jwt')
    const header = decodeJson(parts[0])
    const payload = decodeJson(parts[1])
    const { alg, typ } = header
    if (alg !== 'ES256' && alg !== 'ES256K') throw BAD('unsupported jwt algorithm', 'BadJwtAlgorithm')
    // Access, refresh and DPoP tokens are not service tokens.
    if (typ === 'at+jwt' || typ === 'refresh+jwt' || typ === 'dpop+jwt')
      throw BAD(`Invalid jwt type "${typ}"`, 'BadJwtType')
    const kid = header.kid === undefined ? '#atproto' : header.kid
    if (typeof kid !== 'string' || !kids.includes(kid)) throw BAD('jwt key id not accepted', 'BadJwtKeyId')
    const { iss, aud, exp, lxm, jti } = payload
    if (typeof iss !== 'string' || typeof aud !== 'string' || typeof exp !== 'number')
      throw BAD('poorly formatted jwt')
    if (lxm !== undefined && typeof lxm !== 'string') throw BAD('poorly formatted jwt')
    if (jti !== undefined && typeof jti !== 'string') throw BAD('poorly formatted jwt')
    if (Date.now() / 1000 > exp) throw BAD('jwt expired', 'JwtExpired')
    if (!audiences.includes(aud)) throw BAD('jwt audience does not match service did', 'BadJwtAudience')
    if ((options.requireLxm ?? true) && lxm !== nsid) {
      throw BAD(
        lxm === undefined
          ? `missing jwt lexicon method ("lxm"). must match: ${nsid}`
          : `bad jwt lexicon method ("lxm"). must match: ${nsid}`,
        'BadJwtLexiconMethod',
      )
    }
    // Until 2026 `iss` could carry a service fragment; the key is still the DID's.
    const did = iss.includes('#') ? iss.slice(0, iss.indexOf('#')) : iss
    if (!DID_RE.test(did)) throw BAD('jwt iss is not a valid did', 'BadJwtIss')
    const message = new TextEncoder().encode(`${parts[0]}.${parts[1]}`)
    const signature = new Uint8Array(Buffer.from(parts[2], 'base64url'))
    const check = async (forceRefresh: boolean) => {
      try {
        const key = await options.resolveSigningKey(did, { kid, forceRefresh })
        return await options.verifySignature(key, message, signature, alg)
      } catch (err) {
        if (err instanceof AuthRequiredError) throw err
        throw new AuthRequiredError('could not verify jwt signature', 'BadJwtSignature', { cause: err })
      }
    }
    if (!(await check(false)) && !(await check(true))) {
      throw BAD('jwt signature does not match jwt issuer', 'BadJwtSignature')
    }
    if (options.checkReplay) {
      if (jti === undefined) throw BAD('missing jwt nonce ("jti")')
      if (!(await options.checkReplay(jti, exp, did))) throw BAD('jwt replayed', 'BadJwt')
    }
    return { type: 'service', iss: did, aud, lxm, jti, exp }
  }
}

/** Result of {@link adminBasicVerifier}. */
export interface AdminAuth {
  type: 'admin'
}

/** Admin token check: HTTP Basic with user `admin` (xrpc.md "Admin Token"). Constant-time compare. */
export function adminBasicVerifier(options: { password: string }): (ctx: RequestContext) => AdminAuth {
  const expected = Buffer.from(`admin:${options.password}`)
  const challenge = { wwwAuthenticate: 'Basic realm="admin"' }
  return ({ request }) => {
    const auth = parseAuthorization(request)
    if (!auth) throw new AuthRequiredError(undefined, 'AuthMissing', challenge)
    if (auth.scheme !== 'basic')
      throw new AuthRequiredError('Unexpected authorization type', 'InvalidToken', challenge)
    const given = Buffer.from(auth.credentials, 'base64')
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new AuthRequiredError('Bad admin credentials', 'InvalidToken', challenge)
    }
    return { type: 'admin' }
  }
}

/** Verifiers by `Authorization` scheme; the `dpop` slot takes the OAuth resource-server verifier. */
export interface SchemeVerifiers<B, D, S> {
  bearer?: AuthVerifier<B>
  dpop?: AuthVerifier<D>
  basic?: AuthVerifier<S>
  /** Accept requests without `Authorization` (the verifier then returns `null`). */
  optional?: boolean
}

/** Dispatch to a verifier by `Authorization` scheme (Bearer, DPoP, Basic). */
export function authByScheme<B = never, D = never, S = never>(
  verifiers: SchemeVerifiers<B, D, S>,
): (ctx: RequestContext) => Promise<B | D | S | null> {
  return async (ctx) => {
    const auth = parseAuthorization(ctx.request)
    if (!auth) {
      if (verifiers.optional) return null
      throw new AuthRequiredError(undefined, 'AuthMissing')
    }
    const verifier =
      auth.scheme === 'bearer'
        ? verifiers.bearer
        : auth.scheme === 'dpop'
          ? verifiers.dpop
          : auth.scheme === 'basic'
            ? verifiers.basic
            : undefined
    if (!verifier) throw new AuthRequiredError('Unexpected authorization type', 'InvalidToken')
    return verifier(ctx)
  }
}
