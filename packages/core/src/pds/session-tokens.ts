import { randomBytes } from 'node:crypto'
import { SignJWT } from 'jose'

/** Scopes of legacy (password / app password) session tokens, as the reference PDS issues them. */
export const SessionScope = {
  Access: 'com.atproto.access',
  AppPass: 'com.atproto.appPass',
  AppPassPrivileged: 'com.atproto.appPassPrivileged',
  Refresh: 'com.atproto.refresh',
  /** Signed-up but takendown/deactivated accounts get tokens limited to account management. */
  Takendown: 'com.atproto.takendown',
} as const

/** Options of {@link createSessionTokens}. */
export interface SessionTokenOptions {
  /** HS256 secret (bytes) shared by issuer and verifier. */
  secret: Uint8Array
  /** The service DID tokens are issued for (`aud`), e.g. `did:web:forum.example`. */
  serviceDid: string
  did: string
  /** Access scope: `com.atproto.access` for a password login, `com.atproto.appPass…` for app passwords. */
  scope: string
  /** Lifetimes in seconds: access 2 h and refresh 90 d by default, like the reference. */
  accessTtl?: number
  refreshTtl?: number
  now?: number
}

/** A pair of session tokens and the refresh token's id (stored to allow rotation and revocation). */
export interface SessionTokens {
  accessJwt: string
  refreshJwt: string
  refreshId: string
  refreshExpiresAt: number
}

/** Issue an access/refresh JWT pair for a legacy session. */
export async function createSessionTokens(options: SessionTokenOptions): Promise<SessionTokens> {
  const now = Math.floor((options.now ?? Date.now()) / 1000)
  const refreshId = randomBytes(32).toString('base64url')
  const refreshExpiresAt = now + (options.refreshTtl ?? 90 * 24 * 3600)
  const accessJwt = await new SignJWT({ scope: options.scope })
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
    .setSubject(options.did)
    .setAudience(options.serviceDid)
    .setIssuedAt(now)
    .setExpirationTime(now + (options.accessTtl ?? 2 * 3600))
    .sign(options.secret)
  const refreshJwt = await new SignJWT({ scope: SessionScope.Refresh })
    .setProtectedHeader({ alg: 'HS256', typ: 'refresh+jwt' })
    .setSubject(options.did)
    .setAudience(options.serviceDid)
    .setJti(refreshId)
    .setIssuedAt(now)
    .setExpirationTime(refreshExpiresAt)
    .sign(options.secret)
  return { accessJwt, refreshJwt, refreshId, refreshExpiresAt: refreshExpiresAt * 1000 }
}
