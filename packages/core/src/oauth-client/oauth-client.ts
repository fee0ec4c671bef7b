/**
 * The OAuth client of an AppView (atproto profile), on oauth4webapi and jose: login with a handle, DID
 * or server URL → identity and server discovery → PAR (PKCE S256, DPoP, private_key_jwt for confidential
 * clients) → redirect → callback (state, iss, code exchange, `sub` checks) → session in the store.
 */
import { randomBytes } from 'node:crypto'
import { exportJWK, importJWK, type JWK } from 'jose'
import * as oauth from 'oauth4webapi'
import type { AtprotoService, ServiceContext } from '../atproto.js'
import { IdentityResolver } from '../identity/identity-resolver.js'
import { isValidHandle, normalizeHandle } from '../identity/syntax.js'
import {
  assertClientMetadata,
  CLIENT_JWKS_PATH,
  CLIENT_METADATA_PATH,
  type ClientMetadataDocument,
  isLoopbackClientId,
} from './client-metadata.js'
import {
  OAuthCallbackError,
  OAuthClientError,
  OAuthIdentityMismatchError,
  OAuthResolveError,
  OAuthSessionExpiredError,
} from './errors.js'
import { type OAuthClientFetchOptions, safeFetchHandler } from './http.js'
import {
  type AuthorizationServerMetadata,
  assertServesResource,
  fetchAuthorizationServerMetadata,
  fetchProtectedResourceIssuer,
} from './server-metadata.js'
import { OAuthSession } from './session.js'
import type {
  OAuthClientAuthMethod,
  OAuthClientSessionRecord,
  OAuthClientStateRecord,
  OAuthClientStore,
  OAuthTokenSet,
} from './store.js'

/** Options of {@link OAuthClient}. */
export interface OAuthClientOptions {
  /** This client's metadata (see `webClientMetadata` and `developmentClientMetadata`). */
  metadata: ClientMetadataDocument
  /** Where pending logins and sessions live (`storage.oauthClient` of an adapter). */
  store: OAuthClientStore
  /**
   * Private ES256 JWKs with a `kid` for `private_key_jwt` (confidential clients), from config. The
   * first signs new sessions; keep old ones listed until their sessions are gone (rotation).
   */
  keys?: JWK[]
  /** Identity resolver (default: DNS/HTTPS handles, plc.directory, did:web, SSRF-safe). */
  identity?: IdentityResolver
  /** Network options (loopback/http switches for tests and development only). */
  fetch?: OAuthClientFetchOptions
  /** How long a login may take between redirect and callback (default 10 minutes). */
  stateTtlMs?: number
  /** Refresh when the access token has less than this left (default 60 s). */
  refreshBeforeMs?: number
  /**
   * Refresh lease length (default 30 s, above two request timeouts: a refresh with its nonce retry must
   * finish within it). A crashed refresher blocks others this long at most.
   */
  refreshLeaseMs?: number
  /** How long a request waits for another process's refresh (default 35 s, past a crashed lease). */
  refreshWaitMs?: number
}

/** Options of {@link OAuthClient.authorize}. */
export interface AuthorizeOptions {
  /** Scopes to ask for (default: the metadata's `scope`); must include `atproto`. */
  scope?: string
  /** Callback URL (default: the first of the metadata's `redirect_uris`). */
  redirectUri?: string
  /** Opaque value handed back by {@link OAuthClient.callback} (never sent to the server). */
  appState?: string
  /** `login`, `consent`, `select_account`, `none` or `create`. */
  prompt?: string
}

type ClientKey = { kid: string; privateKey: CryptoKey; publicJwk: JWK }

/** What a login input resolved to. */
interface Resolved {
  issuer: string
  did?: string
  pdsUrl?: string
  loginHint?: string
}

const AS_CACHE_MS = 5 * 60_000

/** The atproto OAuth client. One instance per process; sessions are shared through the store. */
export class OAuthClient {
  readonly metadata: ClientMetadataDocument
  readonly store: OAuthClientStore
  readonly identity: IdentityResolver
  /** @internal */
  readonly fetchOpts: OAuthClientFetchOptions
  /** @internal SSRF-safe fetch used for every request to servers. */
  readonly safeFetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>
  /** @internal */
  readonly options: Required<Pick<OAuthClientOptions, 'refreshBeforeMs' | 'refreshLeaseMs' | 'refreshWaitMs'>>
  private readonly stateTtlMs: number
  private readonly rawKeys: JWK[]
  private keysPromise?: Promise<ClientKey[]>
  private readonly asCache = new Map<string, { md: Promise<AuthorizationServerMetadata>; at: number }>()
  /** DPoP handles per session: they carry each server's last nonce, saving a round trip per request. */
  private readonly dpopHandles = new Map<string, { jwk: JWK; handle: Promise<oauth.DPoPHandle> }>()

  constructor(opts: OAuthClientOptions) {
    this.metadata = opts.metadata
    this.store = opts.store
    this.rawKeys = opts.keys ?? []
    assertClientMetadata(opts.metadata, this.rawKeys.length > 0)
    for (const k of this.rawKeys) {
      if (!k.kid || !k.d || k.kty !== 'EC' || k.crv !== 'P-256') {
        throw new TypeError('OAuth client keys must be private ES256 (P-256) JWKs with a kid')
      }
    }
    this.fetchOpts = opts.fetch ?? {}
    this.safeFetch = safeFetchHandler(this.fetchOpts)
    this.identity =
      opts.identity ??
      new IdentityResolver({
        allowHttp: this.fetchOpts.allowHttp,
        allowLoopback: this.fetchOpts.allowLoopback,
      })
    this.stateTtlMs = opts.stateTtlMs ?? 10 * 60_000
    this.options = {
      refreshBeforeMs: opts.refreshBeforeMs ?? 60_000,
      refreshLeaseMs: opts.refreshLeaseMs ?? 30_000,
      refreshWaitMs: opts.refreshWaitMs ?? 35_000,
    }
  }

  get clientId(): string {
    return this.metadata.client_id
  }

  get confidential(): boolean {
    return this.metadata.token_endpoint_auth_method === 'private_key_jwt'
  }

  /** The public JWKS of a confidential client (empty for public clients). */
  async jwks(): Promise<{ keys: JWK[] }> {
    return { keys: (await this.keys()).map((k) => k.publicJwk) }
  }

  private keys(): Promise<ClientKey[]> {
    this.keysPromise ??= Promise.all(
      this.rawKeys.map(async (jwk) => {
        const { d: _, ...pub } = jwk
        return {
          kid: jwk.kid!,
          privateKey: (await importJWK({ ...jwk, alg: 'ES256' }, 'ES256')) as CryptoKey,
          publicJwk: { ...pub, alg: 'ES256', use: 'sig' },
        }
      }),
    )
    return this.keysPromise
  }

  /** @internal oauth4webapi options: our fetch, and http allowed only when configured. */
  httpOptions<T extends object>(extra: T): T {
    return {
      ...extra,
      [oauth.customFetch]: this.safeFetch,
      ...(this.fetchOpts.allowHttp ? { [oauth.allowInsecureRequests]: true } : {}),
    }
  }

  /** @internal */
  oauthClient(): oauth.Client {
    return { client_id: this.clientId, token_endpoint_auth_method: this.metadata.token_endpoint_auth_method }
  }

  /** @internal Client authentication for a session's method (the same key for its whole life). */
  async clientAuth(method: OAuthClientAuthMethod): Promise<oauth.ClientAuth> {
    if (method.method === 'none') return oauth.None()
    const key = (await this.keys()).find((k) => k.kid === method.kid)
    if (!key) {
      throw new OAuthSessionExpiredError(`Client key ${method.kid} is no longer configured`, '')
    }
    return oauth.PrivateKeyJwt({ key: key.privateKey, kid: key.kid })
  }

  private async newAuthMethod(): Promise<OAuthClientAuthMethod> {
    if (!this.confidential) return { method: 'none' }
    const [first] = await this.keys()
    return { method: 'private_key_jwt', kid: first!.kid }
  }

  /** @internal Authorization server metadata, validated, cached briefly. */
  serverMetadata(issuer: string): Promise<AuthorizationServerMetadata> {
    const hit = this.asCache.get(issuer)
    if (hit && Date.now() - hit.at < AS_CACHE_MS) return hit.md
    const md = fetchAuthorizationServerMetadata(this.safeFetch, issuer, {
      allowHttp: this.fetchOpts.allowHttp,
      authMethod: this.metadata.token_endpoint_auth_method,
    })
    this.asCache.set(issuer, { md, at: Date.now() })
    md.catch(() => this.asCache.delete(issuer))
    return md
  }

  /** @internal The DPoP handle of a key (one per session, nonces remembered per server origin). */
  dpop(sessionKey: string, jwk: JWK): Promise<oauth.DPoPHandle> {
    const hit = this.dpopHandles.get(sessionKey)
    if (hit && hit.jwk.d === jwk.d) return hit.handle
    const handle = (async () => {
      const { d: _, ...pub } = jwk
      const privateKey = (await importJWK({ ...jwk, alg: 'ES256' }, 'ES256')) as CryptoKey
      const publicKey = await crypto.subtle.importKey(
        'jwk',
        { kty: pub.kty, crv: pub.crv, x: pub.x, y: pub.y },
        { name: 'ECDSA', namedCurve: 'P-256' },
        true,
        ['verify'],
      )
      return oauth.DPoP(this.oauthClient(), { privateKey, publicKey })
    })()
    if (this.dpopHandles.size >= 1000) this.dpopHandles.delete(this.dpopHandles.keys().next().value!)
    this.dpopHandles.set(sessionKey, { jwk, handle })
    return handle
  }

  private keepDpop(key: string, jwk: JWK, handle: oauth.DPoPHandle): void {
    if (this.dpopHandles.size >= 1000) this.dpopHandles.delete(this.dpopHandles.keys().next().value!)
    this.dpopHandles.set(key, { jwk, handle: Promise.resolve(handle) })
  }

  /** @internal Drop the cached DPoP handle of a session. */
  forgetDpop(sessionKey: string): void {
    this.dpopHandles.delete(sessionKey)
  }

  /** The issuer serving a PDS, from its protected-resource metadata. */
  private async issuerOfPds(pdsUrl: string): Promise<string> {
    return fetchProtectedResourceIssuer(this.safeFetch, pdsUrl)
  }

  /** Resolve a handle, DID or server URL to the authorization server (and account) to log in with. */
  private async resolveInput(input: string): Promise<Resolved> {
    const raw = input.trim()
    if (/^https?:\/\//i.test(raw)) {
      if (!URL.canParse(raw)) throw new OAuthResolveError(`"${input}" is not a valid server URL`)
      const origin = new URL(raw).origin
      // A PDS names its issuer; an entryway is the issuer itself.
      const issuer = await this.issuerOfPds(origin).catch(() => origin)
      return { issuer }
    }
    const id = raw.replace(/^@/, '')
    if (!id.startsWith('did:') && !isValidHandle(normalizeHandle(id))) {
      throw new OAuthResolveError(`"${input}" is not a handle, DID or server URL`)
    }
    let resolved: Awaited<ReturnType<IdentityResolver['resolveIdentity']>>
    try {
      // Auth flows must not trust a stale identity: resolve afresh.
      resolved = await this.identity.resolveIdentity(id, { forceRefresh: true })
    } catch (err) {
      throw new OAuthResolveError(`Could not resolve ${id}: ${(err as Error).message}`, { cause: err })
    }
    if (!id.startsWith('did:') && resolved.handle !== normalizeHandle(id)) {
      // The bidirectional check failed: the DID document does not claim this handle.
      throw new OAuthResolveError(`The handle ${id} is not confirmed by its DID document`)
    }
    if (!resolved.pdsUrl) throw new OAuthResolveError(`${id} has no PDS in its DID document`)
    const issuer = await this.issuerOfPds(resolved.pdsUrl)
    return { issuer, did: resolved.did, pdsUrl: resolved.pdsUrl, loginHint: raw.replace(/^@/, '') }
  }

  /**
   * Start a login: resolve, push the authorization request (PAR), remember the pending state, and
   * return the URL to redirect the browser to.
   * @throws {OAuthResolveError} {@link OAuthMetadataError} {@link OAuthClientError}
   */
  async authorize(input: string, opts: AuthorizeOptions = {}): Promise<URL> {
    const r = await this.resolveInput(input)
    const as = await this.serverMetadata(r.issuer)
    if (r.pdsUrl) assertServesResource(as, r.pdsUrl)
    const scope = opts.scope ?? this.metadata.scope
    if (!scope.split(' ').includes('atproto')) throw new TypeError('scope must include atproto')
    const redirectUri = opts.redirectUri ?? this.metadata.redirect_uris[0]!
    if (!this.metadata.redirect_uris.includes(redirectUri)) {
      throw new TypeError(`redirect URI ${redirectUri} is not in the client metadata`)
    }
    const authMethod = await this.newAuthMethod()
    const codeVerifier = oauth.generateRandomCodeVerifier()
    const state = randomBytes(24).toString('base64url')
    const keyPair = await oauth.generateKeyPair('ES256', { extractable: true })
    const dpopKey = { ...(await exportJWK(keyPair.privateKey)), alg: 'ES256' }
    const dpop = oauth.DPoP(this.oauthClient(), keyPair)
    const params: Record<string, string> = {
      response_type: 'code',
      redirect_uri: redirectUri,
      scope,
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    }
    if (r.loginHint) params.login_hint = r.loginHint
    if (opts.prompt) params.prompt = opts.prompt
    const clientAuth = await this.clientAuth(authMethod)
    const par = await withNonceRetry(async () => {
      const res = await oauth.pushedAuthorizationRequest(
        as,
        this.oauthClient(),
        clientAuth,
        params,
        this.httpOptions({ DPoP: dpop }),
      )
      return oauth.processPushedAuthorizationResponse(as, this.oauthClient(), res)
    }).catch((err) => {
      throw wrap(err, 'Pushed authorization request refused')
    })
    const record: OAuthClientStateRecord = {
      issuer: r.issuer,
      codeVerifier,
      dpopKey,
      redirectUri,
      scope,
      authMethod,
      createdAt: Date.now(),
    }
    if (r.did) record.did = r.did
    if (r.pdsUrl) record.pdsUrl = r.pdsUrl
    if (opts.appState !== undefined) record.appState = opts.appState
    await this.store.putState(state, record, Date.now() + this.stateTtlMs)
    // Keep the handle (it knows the server's nonce): a callback in this process saves a nonce round trip.
    this.keepDpop(`state:${state}`, dpopKey, dpop)
    const url = new URL(as.authorization_endpoint)
    url.searchParams.set('client_id', this.clientId)
    url.searchParams.set('request_uri', par.request_uri)
    return url
  }

  /**
   * Finish a login from the callback's query parameters: checks `state` (single use) and `iss`,
   * exchanges the code, verifies that `sub` is the account the login started with and that the issuer
   * is authoritative for it (its PDS names this issuer), then stores the session.
   * @throws {OAuthCallbackError} {@link OAuthIdentityMismatchError}
   */
  async callback(params: URLSearchParams): Promise<{ session: OAuthSession; appState?: string }> {
    const state = params.get('state')
    if (!state) throw new OAuthCallbackError('The callback has no state')
    const record = await this.store.takeState(state)
    if (!record) throw new OAuthCallbackError('Unknown, expired or already used state')
    const iss = params.get('iss')
    if (iss !== record.issuer) {
      throw new OAuthCallbackError(`The callback's issuer ${iss ?? '(none)'} is not ${record.issuer}`)
    }
    const as = await this.serverMetadata(record.issuer)
    const client = this.oauthClient()
    let validated: URLSearchParams
    try {
      validated = oauth.validateAuthResponse(as, client, params, state)
    } catch (err) {
      if (err instanceof oauth.AuthorizationResponseError) {
        throw new OAuthCallbackError(
          `Authorization failed: ${err.error}${err.error_description ? ` (${err.error_description})` : ''}`,
          err.error,
          { cause: err },
        )
      }
      throw new OAuthCallbackError(`Invalid authorization response: ${(err as Error).message}`, undefined, {
        cause: err,
      })
    }
    // The app keeps this id in a cookie: 256 random bits.
    const sessionId = randomBytes(32).toString('base64url')
    const carried = this.dpopHandles.get(`state:${state}`)
    this.dpopHandles.delete(`state:${state}`)
    if (carried) this.keepDpop(sessionId, record.dpopKey, await carried.handle)
    const dpop = await this.dpop(sessionId, record.dpopKey)
    const clientAuth = await this.clientAuth(record.authMethod)
    const tokens = await withNonceRetry(async () => {
      const res = await oauth.authorizationCodeGrantRequest(
        as,
        client,
        clientAuth,
        validated,
        record.redirectUri,
        record.codeVerifier,
        this.httpOptions({ DPoP: dpop }),
      )
      return oauth.processAuthorizationCodeResponse(as, client, res)
    }).catch((err) => {
      this.forgetDpop(sessionId)
      throw new OAuthCallbackError(`Code exchange failed: ${(err as Error).message}`, errorCode(err), {
        cause: err,
      })
    })
    let tokenSet: OAuthTokenSet
    let pdsUrl: string
    try {
      tokenSet = toTokenSet(tokens)
      if (record.did && tokenSet.sub !== record.did) {
        throw new OAuthIdentityMismatchError(
          `The server signed in ${tokenSet.sub}, but the login was for ${record.did}`,
        )
      }
      pdsUrl = await this.verifyIssuerFor(tokenSet.sub, record.issuer)
    } catch (err) {
      // Nothing issued here may stay usable.
      await this.revokeTokens(as, record.authMethod, tokens).catch(() => {})
      this.forgetDpop(sessionId)
      if (err instanceof OAuthClientError) throw err
      throw new OAuthCallbackError((err as Error).message, undefined, { cause: err })
    }
    const now = Date.now()
    const row: OAuthClientSessionRecord = {
      id: sessionId,
      did: tokenSet.sub,
      issuer: record.issuer,
      pdsUrl,
      dpopKey: record.dpopKey,
      authMethod: record.authMethod,
      tokens: tokenSet,
      version: 0,
      createdAt: now,
      updatedAt: now,
    }
    await this.store.createSession(row)
    return { session: new OAuthSession(this, row), appState: record.appState }
  }

  /**
   * The account's PDS must be served by `issuer` (resolved afresh from its DID): otherwise this server
   * is not authoritative for the account it claims to have signed in.
   */
  private async verifyIssuerFor(did: string, issuer: string): Promise<string> {
    let pdsUrl: string | undefined
    try {
      pdsUrl = (await this.identity.resolveIdentity(did, { forceRefresh: true })).pdsUrl
    } catch (err) {
      throw new OAuthIdentityMismatchError(`Could not resolve the signed-in account ${did}`, undefined, {
        cause: err,
      })
    }
    if (!pdsUrl) throw new OAuthIdentityMismatchError(`${did} has no PDS`)
    const pdsIssuer = await this.issuerOfPds(pdsUrl).catch(() => null)
    if (pdsIssuer !== issuer) {
      throw new OAuthIdentityMismatchError(
        `${issuer} is not the authorization server of ${did} (its PDS ${pdsUrl} names ${pdsIssuer ?? 'none'})`,
      )
    }
    assertServesResource(await this.serverMetadata(issuer), pdsUrl)
    return pdsUrl
  }

  private async revokeTokens(
    as: AuthorizationServerMetadata,
    authMethod: OAuthClientAuthMethod,
    tokens: { access_token?: string; refresh_token?: string },
  ): Promise<void> {
    if (!as.revocation_endpoint) return
    const auth = await this.clientAuth(authMethod)
    for (const t of [tokens.refresh_token, tokens.access_token]) {
      if (!t) continue
      const res = await oauth.revocationRequest(as, this.oauthClient(), auth, t, this.httpOptions({}))
      await oauth.processRevocationResponse(res)
    }
  }

  /**
   * A stored session by id (its tokens are refreshed when used, not here).
   * @throws {OAuthSessionExpiredError} when there is no such session (signed out, revoked)
   */
  async restore(sessionId: string): Promise<OAuthSession> {
    const row = await this.store.getSession(sessionId)
    if (!row) throw new OAuthSessionExpiredError('No such session', sessionId)
    return new OAuthSession(this, row)
  }

  /** @internal Revoke at the server (best effort) and delete the session. */
  async signOut(row: OAuthClientSessionRecord): Promise<void> {
    try {
      const as = await this.serverMetadata(row.issuer)
      await this.revokeTokens(as, row.authMethod, {
        refresh_token: row.tokens.refreshToken,
        access_token: row.tokens.accessToken,
      })
    } finally {
      this.forgetDpop(row.id)
      await this.store.deleteSession(row.id)
    }
  }

  /**
   * Serve the client metadata document and JWKS (GET `metadataPath` / `jwksPath`, as in the metadata's
   * URLs); null for other requests. Web Request/Response: mount it in any framework.
   */
  async fetch(request: Request): Promise<Response | null> {
    if (request.method !== 'GET' && request.method !== 'HEAD') return null
    const path = new URL(request.url).pathname
    const headers = { 'cache-control': 'public, max-age=300', 'access-control-allow-origin': '*' }
    if (!isLoopbackClientId(this.clientId) && path === new URL(this.clientId).pathname) {
      return Response.json(this.metadata, { headers })
    }
    if (this.metadata.jwks_uri && path === new URL(this.metadata.jwks_uri).pathname) {
      return Response.json(await this.jwks(), { headers })
    }
    return null
  }

  /** Mount as an {@link AtprotoService}: serves the metadata document and JWKS at their paths. */
  service(): AtprotoService {
    return {
      name: 'oauth-client',
      setup: (ctx: ServiceContext) => {
        const handler = async (req: Request) =>
          (await this.fetch(req)) ??
          Response.json({ error: 'NotFound', message: 'Not found' }, { status: 404 })
        const paths = new Set<string>()
        if (!isLoopbackClientId(this.clientId)) paths.add(new URL(this.clientId).pathname)
        if (this.metadata.jwks_uri) paths.add(new URL(this.metadata.jwks_uri).pathname)
        if (paths.size === 0) paths.add(CLIENT_METADATA_PATH).add(CLIENT_JWKS_PATH)
        for (const p of paths) ctx.route(p, handler)
      },
    }
  }
}

/** Run an oauth4webapi exchange; once more when the server asks for a (new) DPoP nonce. */
export async function withNonceRetry<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    if (oauth.isDPoPNonceError(err)) return fn()
    throw err
  }
}

/** The OAuth error code of an oauth4webapi error, when it carries one. */
export function errorCode(err: unknown): string | undefined {
  if (err instanceof oauth.ResponseBodyError) return err.error
  return undefined
}

function wrap(err: unknown, what: string): Error {
  if (err instanceof OAuthClientError) return err
  const code = errorCode(err)
  return new OAuthClientError(`${what}: ${code ? `${code} ` : ''}${(err as Error).message}`, { cause: err })
}

/**
 * The token response as stored. atproto requires `sub` (a DID), `scope` with `atproto`, DPoP tokens.
 * @throws {OAuthCallbackError}
 */
export function toTokenSet(t: oauth.TokenEndpointResponse, expectSub?: string): OAuthTokenSet {
  const sub = t.sub
  if (typeof sub !== 'string' || !sub.startsWith('did:')) {
    throw new OAuthCallbackError('The token response has no account DID (sub)')
  }
  if (expectSub && sub !== expectSub) {
    throw new OAuthIdentityMismatchError(`The refreshed tokens are for ${sub}, not ${expectSub}`)
  }
  if (typeof t.scope !== 'string' || !t.scope.split(' ').includes('atproto')) {
    throw new OAuthCallbackError('The token response does not grant the atproto scope')
  }
  if (t.token_type.toLowerCase() !== 'dpop') {
    throw new OAuthCallbackError(`Expected a DPoP-bound token, got ${t.token_type}`)
  }
  const set: OAuthTokenSet = {
    accessToken: t.access_token,
    tokenType: 'DPoP',
    scope: t.scope,
    sub,
  }
  if (t.refresh_token) set.refreshToken = t.refresh_token
  if (typeof t.expires_in === 'number') set.expiresAt = Date.now() + t.expires_in * 1000
  return set
}
