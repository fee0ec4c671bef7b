/**
 * The narrow storage the OAuth authorization server needs. Methods marked **atomic** are where races
 * become security bugs (replays, double spends of codes and refresh tokens): a database implementation
 * must run them as one statement or transaction (conditional update / insert-if-absent), never as a
 * read followed by a write.
 */
import type { ClientAuth } from './client-auth.js'
import type { OAuthClientMetadata } from './client-metadata.js'

export type Awaitable<T> = T | Promise<T>

/** Parameters of a pushed authorization request, as validated by the PAR endpoint. */
export interface AuthorizationParameters {
  client_id: string
  redirect_uri: string
  response_type: 'code'
  response_mode: 'query' | 'fragment'
  scope: string
  state: string
  code_challenge: string
  code_challenge_method: 'S256'
  login_hint?: string
  prompt?: 'none' | 'login' | 'consent' | 'create' | 'select_account'
  ui_locales?: string
}

/** A pushed authorization request (`request_uri`), alive until a code is issued or it expires. */
export interface AuthorizationRequestRecord {
  id: string
  clientId: string
  clientAuth: ClientAuth
  parameters: AuthorizationParameters
  /** Thumbprint of the DPoP key used at PAR; the code can only be exchanged with the same key. */
  dpopJkt: string
  /** Browser (device cookie) the request was first opened in; later steps must come from it. */
  deviceId?: string
  /** Account that signed in for this request on that device. */
  sub?: string
  createdAt: number
  expiresAt: number
}

/** What an authorization code grants, fixed when the user consents. */
export interface CodeGrant {
  clientId: string
  clientAuth: ClientAuth
  sub: string
  scope: string
  redirectUri: string
  codeChallenge: string
  dpopJkt: string
  requestId: string
}

/** One authorized session (a token family): every refresh token rotated from one code exchange. */
export interface OAuthSessionRecord {
  id: string
  sub: string
  clientId: string
  clientAuth: ClientAuth
  scope: string
  dpopJkt: string
  /** The authorization code this session was created from (for code-reuse revocation). */
  code: string
  /** SHA-256 (base64url) of the refresh token currently valid for this session. */
  refreshTokenHash: string
  refreshExpiresAt: number
  createdAt: number
  /** Hard end of the session, whatever the refreshes (public clients: 2 weeks). */
  expiresAt: number
  revokedAt?: number
}

/** A browser that signed in with "remember me" (a device session), keyed by the device cookie. */
export interface DeviceSessionRecord {
  deviceId: string
  sub: string
  expiresAt: number
}

/** Storage used by the authorization server. See the module note about atomic methods. */
export interface OAuthStore {
  /**
   * **Atomic.** Remember `key` in `namespace` for `ttlMs`; true for exactly one caller, false if the key
   * is already there (DPoP `jti`, client assertion `jti`, PKCE `code_challenge` replay).
   */
  unique(namespace: string, key: string, ttlMs: number): Awaitable<boolean>

  createRequest(record: AuthorizationRequestRecord): Awaitable<void>
  /** The request if it exists (expired ones may still be returned; the server checks `expiresAt`). */
  readRequest(id: string): Awaitable<AuthorizationRequestRecord | null>
  /** Set `deviceId` / `sub` / `expiresAt`; no-op when the request is gone. */
  updateRequest(
    id: string,
    patch: Partial<Pick<AuthorizationRequestRecord, 'deviceId' | 'sub' | 'expiresAt'>>,
  ): Awaitable<void>
  /** **Atomic.** Delete and return the request; exactly one concurrent caller gets it, others null. */
  consumeRequest(id: string): Awaitable<AuthorizationRequestRecord | null>

  createCode(code: string, grant: CodeGrant, expiresAt: number): Awaitable<void>
  /**
   * **Atomic.** Mark the code used. The first caller gets `{ grant, reused: false }`; every later caller
   * `{ grant, reused: true }` (the server then revokes what the first use issued). Null when the code is
   * unknown or expired. A used code must stay known well past its expiry (the memory store keeps it a
   * day) so that a late replay is still detected.
   */
  consumeCode(code: string): Awaitable<{ grant: CodeGrant; reused: boolean } | null>

  createSession(record: OAuthSessionRecord): Awaitable<void>
  getSession(id: string): Awaitable<OAuthSessionRecord | null>
  /**
   * The session a refresh token (hash) belongs to, whether it is the current token (`current: true`) or
   * one already rotated away (`current: false`, i.e. a replay). Rotated hashes must stay findable until
   * the session ends.
   */
  findSessionByRefreshToken(hash: string): Awaitable<{ session: OAuthSessionRecord; current: boolean } | null>
  /**
   * **Atomic** compare-and-swap: replace the session's refresh token `oldHash` by `newHash` only if
   * `oldHash` is still current and the session is not revoked. True for exactly one concurrent caller.
   */
  rotateRefreshToken(
    id: string,
    oldHash: string,
    newHash: string,
    refreshExpiresAt: number,
  ): Awaitable<boolean>
  /** Revoke a session (idempotent). */
  revokeSession(id: string): Awaitable<void>
  /** Revoke every session created from `code` (authorization code reuse). */
  revokeSessionsByCode(code: string): Awaitable<void>
  /** Active sessions of an account, for a "connected apps" page. */
  listSessions(sub: string): Awaitable<OAuthSessionRecord[]>

  createDeviceSession(record: DeviceSessionRecord): Awaitable<void>
  getDeviceSession(deviceId: string): Awaitable<DeviceSessionRecord | null>
  deleteDeviceSession(deviceId: string): Awaitable<void>

  /** Cached client metadata (already validated), or null when absent or expired. */
  getCachedClient(clientId: string): Awaitable<OAuthClientMetadata | null>
  setCachedClient(clientId: string, metadata: OAuthClientMetadata, expiresAt: number): Awaitable<void>
}

const USED_CODE_RETENTION_MS = 24 * 3600_000

interface Expiring<T> {
  value: T
  expiresAt: number
}

/**
 * In-memory {@link OAuthStore} for tests, examples and single-process deployments. Single-threaded
 * JavaScript makes each synchronous method atomic.
 */
export class MemoryOAuthStore implements OAuthStore {
  private readonly uniques = new Map<string, number>()
  private readonly requests = new Map<string, AuthorizationRequestRecord>()
  private readonly codes = new Map<string, Expiring<{ grant: CodeGrant; used: boolean }>>()
  private readonly sessions = new Map<string, OAuthSessionRecord>()
  private readonly refreshIndex = new Map<string, string>()
  private readonly devices = new Map<string, DeviceSessionRecord>()
  private readonly clients = new Map<string, Expiring<OAuthClientMetadata>>()
  private sweepAt = 0

  constructor(private readonly now: () => number = Date.now) {}

  // Expired entries are dropped lazily, at most once a minute, so memory stays bounded without timers.
  private sweep(): void {
    const now = this.now()
    if (now < this.sweepAt) return
    this.sweepAt = now + 60_000
    for (const [k, exp] of this.uniques) if (exp <= now) this.uniques.delete(k)
    for (const [k, r] of this.requests) if (r.expiresAt <= now) this.requests.delete(k)
    for (const [k, c] of this.codes) if (c.expiresAt <= now) this.codes.delete(k)
    for (const [k, c] of this.clients) if (c.expiresAt <= now) this.clients.delete(k)
    for (const [k, d] of this.devices) if (d.expiresAt <= now) this.devices.delete(k)
    for (const [id, s] of this.sessions) {
      if (s.expiresAt <= now || s.refreshExpiresAt <= now) this.sessions.delete(id)
    }
    for (const [hash, id] of this.refreshIndex) if (!this.sessions.has(id)) this.refreshIndex.delete(hash)
  }

  unique(namespace: string, key: string, ttlMs: number): boolean {
    this.sweep()
    const k = `${namespace}\0${key}`
    const exp = this.uniques.get(k)
    if (exp !== undefined && exp > this.now()) return false
    this.uniques.set(k, this.now() + ttlMs)
    return true
  }

  createRequest(record: AuthorizationRequestRecord): void {
    this.sweep()
    this.requests.set(record.id, { ...record })
  }
  readRequest(id: string): AuthorizationRequestRecord | null {
    const r = this.requests.get(id)
    return r ? { ...r } : null
  }
  updateRequest(id: string, patch: Partial<AuthorizationRequestRecord>): void {
    const r = this.requests.get(id)
    if (r) this.requests.set(id, { ...r, ...patch })
  }
  consumeRequest(id: string): AuthorizationRequestRecord | null {
    const r = this.requests.get(id)
    this.requests.delete(id)
    return r ?? null
  }

  createCode(code: string, grant: CodeGrant, expiresAt: number): void {
    this.sweep()
    this.codes.set(code, { value: { grant, used: false }, expiresAt })
  }
  consumeCode(code: string): { grant: CodeGrant; reused: boolean } | null {
    const c = this.codes.get(code)
    if (!c || c.expiresAt <= this.now()) return null
    const reused = c.value.used
    if (!reused) {
      c.value.used = true
      // A used code stays known for a day so a late replay still revokes what it issued.
      c.expiresAt = Math.max(c.expiresAt, this.now() + USED_CODE_RETENTION_MS)
    }
    return { grant: c.value.grant, reused }
  }

  createSession(record: OAuthSessionRecord): void {
    this.sweep()
    this.sessions.set(record.id, { ...record })
    this.refreshIndex.set(record.refreshTokenHash, record.id)
  }
  getSession(id: string): OAuthSessionRecord | null {
    const s = this.sessions.get(id)
    return s ? { ...s } : null
  }
  findSessionByRefreshToken(hash: string): { session: OAuthSessionRecord; current: boolean } | null {
    const id = this.refreshIndex.get(hash)
    const s = id === undefined ? undefined : this.sessions.get(id)
    if (!s) return null
    return { session: { ...s }, current: s.refreshTokenHash === hash }
  }
  rotateRefreshToken(id: string, oldHash: string, newHash: string, refreshExpiresAt: number): boolean {
    const s = this.sessions.get(id)
    if (!s || s.revokedAt !== undefined || s.refreshTokenHash !== oldHash) return false
    s.refreshTokenHash = newHash
    s.refreshExpiresAt = refreshExpiresAt
    this.refreshIndex.set(newHash, id)
    return true
  }
  revokeSession(id: string): void {
    const s = this.sessions.get(id)
    if (s && s.revokedAt === undefined) s.revokedAt = this.now()
  }
  revokeSessionsByCode(code: string): void {
    for (const s of this.sessions.values()) if (s.code === code) this.revokeSession(s.id)
  }
  listSessions(sub: string): OAuthSessionRecord[] {
    const now = this.now()
    return [...this.sessions.values()]
      .filter((s) => s.sub === sub && s.revokedAt === undefined && s.expiresAt > now)
      .map((s) => ({ ...s }))
  }

  createDeviceSession(record: DeviceSessionRecord): void {
    this.devices.set(record.deviceId, { ...record })
  }
  getDeviceSession(deviceId: string): DeviceSessionRecord | null {
    const d = this.devices.get(deviceId)
    return d && d.expiresAt > this.now() ? { ...d } : null
  }
  deleteDeviceSession(deviceId: string): void {
    this.devices.delete(deviceId)
  }

  getCachedClient(clientId: string): OAuthClientMetadata | null {
    const c = this.clients.get(clientId)
    return c && c.expiresAt > this.now() ? c.value : null
  }
  setCachedClient(clientId: string, metadata: OAuthClientMetadata, expiresAt: number): void {
    this.clients.set(clientId, { value: metadata, expiresAt })
  }
}
