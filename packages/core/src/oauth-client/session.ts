/**
 * A signed-in OAuth session: DPoP-bound requests to the account's PDS (nonce retry on both servers),
 * token refresh serialized across processes by a lease in the store, sign-out.
 */
import { randomUUID } from 'node:crypto'
import * as oauth from 'oauth4webapi'
import { OAuthClientError, OAuthRefreshTimeoutError, OAuthSessionExpiredError } from './errors.js'
import type { OAuthClient } from './oauth-client.js'
import { errorCode, toTokenSet, withNonceRetry } from './oauth-client.js'
import type { OAuthClientSessionRecord, OAuthTokenSet } from './store.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Errors that mean the refresh token is dead: the session is over. */
const TERMINAL = new Set(['invalid_grant', 'invalid_client', 'unauthorized_client'])

/** A session of {@link OAuthClient}; cheap to create, state lives in the store. */
export class OAuthSession {
  #row: OAuthClientSessionRecord

  /** @internal use {@link OAuthClient.callback} or {@link OAuthClient.restore} */
  constructor(
    private readonly client: OAuthClient,
    row: OAuthClientSessionRecord,
  ) {
    this.#row = row
  }

  /** Session id (keep it in the app's session cookie). */
  get id(): string {
    return this.#row.id
  }
  /** The signed-in account. */
  get did(): string {
    return this.#row.did
  }
  get issuer(): string {
    return this.#row.issuer
  }
  get pdsUrl(): string {
    return this.#row.pdsUrl
  }
  /** Granted scopes. */
  get scope(): string {
    return this.#row.tokens.scope
  }

  /**
   * Current tokens: refreshed first when the access token is about to expire (`'auto'`, default),
   * always (`true`) or never (`false`).
   * @throws {OAuthSessionExpiredError} when the session ended (refresh refused, signed out)
   */
  async getTokens(refresh: boolean | 'auto' = 'auto'): Promise<OAuthTokenSet> {
    const stored = await this.client.store.getSession(this.id)
    if (!stored) throw new OAuthSessionExpiredError('The session has ended', this.id)
    const { lock: _, ...row } = stored
    this.#row = row
    const exp = row.tokens.expiresAt
    const due = exp !== undefined && exp - Date.now() < this.client.options.refreshBeforeMs
    if (refresh === true || (refresh === 'auto' && due)) await this.refresh(row.version)
    return this.#row.tokens
  }

  /**
   * Refresh the tokens. Exactly one caller across processes talks to the server (a lease in the store);
   * others wait until the new tokens land and use them. `knownVersion`: refresh only if the stored tokens
   * are still that version (another refresh after it is as good).
   * @throws {OAuthSessionExpiredError} {@link OAuthRefreshTimeoutError}
   */
  async refresh(knownVersion = this.#row.version): Promise<void> {
    const { store, options } = this.client
    const deadline = Date.now() + options.refreshWaitMs
    const owner = randomUUID()
    for (let wait = 25; ; wait = Math.min(wait * 2, 250)) {
      const now = Date.now()
      const current = await store.getSession(this.id)
      if (!current) throw new OAuthSessionExpiredError('The session has ended', this.id)
      if (current.version !== knownVersion) {
        const { lock: _, ...row } = current
        this.#row = row
        return
      }
      if (await store.acquireRefreshLock(this.id, owner, now + options.refreshLeaseMs, now)) {
        // The winner may have read a version that another refresh replaced before the lock: re-check.
        const locked = await store.getSession(this.id)
        if (!locked || locked.version !== knownVersion) {
          await store.releaseRefreshLock(this.id, owner)
          continue
        }
        const { lock: _, ...row } = locked
        let tokens: OAuthTokenSet
        try {
          tokens = await this.requestRefresh(row)
        } catch (err) {
          if (err instanceof OAuthSessionExpiredError) {
            await store.deleteSession(this.id)
            this.client.forgetDpop(this.id)
          } else await store.releaseRefreshLock(this.id, owner)
          throw err
        }
        if (!(await store.saveRefreshedTokens(this.id, owner, tokens))) {
          throw new OAuthClientError('The refresh lease expired before the new tokens were saved')
        }
        this.#row = { ...row, tokens, version: row.version + 1 }
        return
      }
      if (Date.now() > deadline) {
        throw new OAuthRefreshTimeoutError(`Another process is still refreshing session ${this.id}`)
      }
      await sleep(wait)
    }
  }

  private async requestRefresh(row: OAuthClientSessionRecord): Promise<OAuthTokenSet> {
    const refreshToken = row.tokens.refreshToken
    if (!refreshToken) throw new OAuthSessionExpiredError('The session has no refresh token', row.id)
    const as = await this.client.serverMetadata(row.issuer)
    const client = this.client.oauthClient()
    const auth = await this.client.clientAuth(row.authMethod)
    const dpop = await this.client.dpop(row.id, row.dpopKey)
    try {
      const res = await withNonceRetry(async () => {
        const r = await oauth.refreshTokenGrantRequest(
          as,
          client,
          auth,
          refreshToken,
          this.client.httpOptions({ DPoP: dpop }),
        )
        return oauth.processRefreshTokenResponse(as, client, r)
      })
      return toTokenSet(res, row.did)
    } catch (err) {
      const code = errorCode(err)
      if (code && TERMINAL.has(code)) {
        throw new OAuthSessionExpiredError(`Refresh refused (${code}): sign in again`, row.id, { cause: err })
      }
      if (err instanceof OAuthClientError) throw err
      throw new OAuthClientError(`Refresh failed: ${(err as Error).message}`, { cause: err })
    }
  }

  /**
   * A DPoP-bound request to the account's PDS (`input` is a path like `/xrpc/…` or a URL on the PDS).
   * Refreshes ahead of expiry, retries once on a new DPoP nonce and once after refreshing on an
   * `invalid_token` answer. Other answers are returned as they are.
   * @throws {OAuthSessionExpiredError} when the session ended
   */
  async fetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
    const pds = new URL(this.pdsUrl)
    const url = new URL(input, pds)
    if (url.origin !== pds.origin) {
      throw new TypeError(`OAuth session requests go to the account's PDS (${pds.origin}), not ${url.origin}`)
    }
    const method = (init.method ?? 'GET').toUpperCase()
    const headers = new Headers(init.headers)
    // Buffered once, so a retry can send it again.
    const body =
      init.body === undefined || init.body === null
        ? null
        : new Uint8Array(
            await new Request(url, { method, body: init.body, duplex: 'half' } as RequestInit).arrayBuffer(),
          )
    let tokens = await this.getTokens('auto')
    let refreshed = false
    for (let nonceRetried = false; ; ) {
      const dpop = await this.client.dpop(this.id, this.#row.dpopKey)
      try {
        return await oauth.protectedResourceRequest(
          tokens.accessToken,
          method,
          url,
          new Headers(headers),
          body,
          this.client.httpOptions({ DPoP: dpop }),
        )
      } catch (err) {
        if (!(err instanceof oauth.WWWAuthenticateChallengeError)) throw err
        if (oauth.isDPoPNonceError(err) && !nonceRetried) {
          nonceRetried = true
          continue
        }
        const invalidToken = err.cause.some((c) => c.parameters.error === 'invalid_token')
        if (invalidToken && !refreshed) {
          refreshed = true
          await this.refresh(this.#row.version)
          tokens = this.#row.tokens
          continue
        }
        return err.response
      }
    }
  }

  /** Revoke the tokens at the authorization server and delete the session. */
  async signOut(): Promise<void> {
    await this.client.signOut(this.#row)
  }
}
