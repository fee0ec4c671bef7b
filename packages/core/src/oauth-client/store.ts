/**
 * What the OAuth client persists: pending authorizations (between the redirect to the authorization
 * server and the callback) and signed-in sessions with their DPoP key and token set. Adapters implement
 * {@link OAuthClientStore}; core ships {@link MemoryOAuthClientStore} for tests and single-process demos.
 */
import type { JWK } from 'jose'

/** How the client authenticates at the authorization server for a session (kept for its lifetime). */
export type OAuthClientAuthMethod = { method: 'none' } | { method: 'private_key_jwt'; kid: string }

/** A pending authorization request, keyed by its `state`. Single use. */
export interface OAuthClientStateRecord {
  /** The authorization server's issuer (origin) the request went to. */
  issuer: string
  /** The DID resolved from the user's input (absent when the login started with a server URL). */
  did?: string
  /** The PDS URL of `did`. */
  pdsUrl?: string
  /** PKCE verifier. */
  codeVerifier: string
  /** Private DPoP key (ES256 JWK) of the session-to-be. */
  dpopKey: JWK
  redirectUri: string
  scope: string
  authMethod: OAuthClientAuthMethod
  /** Opaque app value handed back by the callback (e.g. where to go after sign-in). */
  appState?: string
  createdAt: number
}

/** The tokens of a session. */
export interface OAuthTokenSet {
  accessToken: string
  /** Always `DPoP` in atproto. */
  tokenType: string
  refreshToken?: string
  scope: string
  /** Account DID. */
  sub: string
  /** Epoch ms when the access token expires (absent when the server did not say). */
  expiresAt?: number
}

/** A signed-in session. */
export interface OAuthClientSessionRecord {
  /** Random session id: the app keeps it (e.g. in its session cookie). */
  id: string
  did: string
  issuer: string
  /** The PDS (resource server) requests go to. */
  pdsUrl: string
  /** Private DPoP key (ES256 JWK) the tokens are bound to. */
  dpopKey: JWK
  authMethod: OAuthClientAuthMethod
  tokens: OAuthTokenSet
  /** Bumped on every token rotation (lets waiters see that a refresh landed). */
  version: number
  createdAt: number
  updatedAt: number
}

/** A stored session with its refresh lease, when one is held. */
export interface StoredOAuthClientSession extends OAuthClientSessionRecord {
  lock?: { owner: string; expiresAt: number }
}

/**
 * Storage of the OAuth client. Methods marked **Atomic** must hold under concurrent callers across
 * processes: refresh tokens are single use, so two processes refreshing one session at once would make
 * the authorization server see a replay and revoke the whole session.
 */
export interface OAuthClientStore {
  /** Store a pending authorization under its `state` until `expiresAt` (epoch ms). */
  putState(state: string, record: OAuthClientStateRecord, expiresAt: number): Promise<void>
  /** **Atomic.** Return and delete the pending authorization (once); null when unknown or expired. */
  takeState(state: string): Promise<OAuthClientStateRecord | null>
  createSession(record: OAuthClientSessionRecord): Promise<void>
  getSession(id: string): Promise<StoredOAuthClientSession | null>
  /** Sessions of an account, newest first. */
  listSessions(did: string): Promise<OAuthClientSessionRecord[]>
  /**
   * **Atomic.** Take the refresh lease of session `id` for `owner` until `expiresAt`: succeeds for exactly
   * one caller while no unexpired lease (as of `now`) is held; false otherwise or when the session is gone.
   */
  acquireRefreshLock(id: string, owner: string, expiresAt: number, now: number): Promise<boolean>
  /**
   * **Atomic.** Store rotated tokens if `owner` still holds the lease: bumps `version`, releases the lease.
   * False (nothing written) when the lease was lost (expired and taken over) or the session was deleted.
   */
  saveRefreshedTokens(id: string, owner: string, tokens: OAuthTokenSet): Promise<boolean>
  /** Release the lease if `owner` holds it (after a failed refresh). */
  releaseRefreshLock(id: string, owner: string): Promise<void>
  deleteSession(id: string): Promise<void>
}

const clone = <T>(v: T): T => structuredClone(v)

/** {@link OAuthClientStore} in memory: tests and single-process demos (nothing survives a restart). */
export class MemoryOAuthClientStore implements OAuthClientStore {
  readonly #states = new Map<string, { record: OAuthClientStateRecord; expiresAt: number }>()
  readonly #sessions = new Map<string, StoredOAuthClientSession>()

  constructor(private readonly now: () => number = Date.now) {}

  async putState(state: string, record: OAuthClientStateRecord, expiresAt: number): Promise<void> {
    const now = this.now()
    for (const [k, v] of this.#states) if (v.expiresAt <= now) this.#states.delete(k)
    this.#states.set(state, { record: clone(record), expiresAt })
  }
  async takeState(state: string): Promise<OAuthClientStateRecord | null> {
    const row = this.#states.get(state)
    this.#states.delete(state)
    return row && row.expiresAt > this.now() ? row.record : null
  }
  async createSession(record: OAuthClientSessionRecord): Promise<void> {
    this.#sessions.set(record.id, clone(record))
  }
  async getSession(id: string): Promise<StoredOAuthClientSession | null> {
    const s = this.#sessions.get(id)
    return s ? clone(s) : null
  }
  async listSessions(did: string): Promise<OAuthClientSessionRecord[]> {
    return [...this.#sessions.values()]
      .filter((s) => s.did === did)
      .sort((a, b) => b.createdAt - a.createdAt)
      .map(({ lock: _, ...s }) => clone(s))
  }
  async acquireRefreshLock(id: string, owner: string, expiresAt: number, now: number): Promise<boolean> {
    const s = this.#sessions.get(id)
    if (!s || (s.lock && s.lock.expiresAt > now)) return false
    s.lock = { owner, expiresAt }
    return true
  }
  async saveRefreshedTokens(id: string, owner: string, tokens: OAuthTokenSet): Promise<boolean> {
    const s = this.#sessions.get(id)
    if (!s || s.lock?.owner !== owner) return false
    s.tokens = clone(tokens)
    s.version++
    s.updatedAt = this.now()
    delete s.lock
    return true
  }
  async releaseRefreshLock(id: string, owner: string): Promise<void> {
    const s = this.#sessions.get(id)
    if (s?.lock?.owner === owner) delete s.lock
  }
  async deleteSession(id: string): Promise<void> {
    this.#sessions.delete(id)
  }
}
