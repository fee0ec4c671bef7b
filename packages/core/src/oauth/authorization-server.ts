/**
 * The OAuth authorization server of the atproto profile, as an {@link AtprotoService}: metadata,
 * PAR, authorization page, token and revocation endpoints, all on Web Request/Response.
 */
import { randomBytes } from 'node:crypto'
import type { JWK } from 'jose'
import type { AtprotoService, ServiceContext } from '../atproto.js'
import type { AuthVerifier, ConnectionInfo } from '../xrpc/types.js'
import type { OAuthAccountProvider } from './accounts.js'
import { handleAuthorizeGet, handleAuthorizePost } from './authorize-endpoint.js'
import { renderDefaultAuthorizePage } from './authorize-page.js'
import { ClientAuthenticator } from './client-auth.js'
import { ClientResolver, type ClientResolverOptions } from './client-metadata.js'
import type { OAuthContext, OAuthLifetimes, RenderAuthorizePage } from './context.js'
import { DPOP_ALGORITHMS, DpopNonces, DpopVerifier } from './dpop.js'
import { OAuthError, ServerError } from './errors.js'
import { handlePar } from './par-endpoint.js'
import { type DpopAccessTokenVerifierOptions, dpopAccessTokenVerifier, type OAuthAuth } from './resource.js'
import type { OAuthStore } from './store.js'
import { handleRevoke, handleToken } from './token-endpoint.js'
import { TokenSigner } from './tokens.js'

/** Options of {@link oauthServer}. */
export interface OAuthServerOptions {
  store: OAuthStore
  accounts: OAuthAccountProvider
  /** Issuer origin (default: the app's `publicUrl`). Must be the origin clients reach the endpoints at. */
  issuer?: string
  /** `aud` of access tokens (default: the issuer). A PDS may use its service DID. */
  audience?: string
  /** Private ES256 JWK signing access tokens. Generated per process when omitted (dev only). */
  signingKey?: JWK
  /**
   * At least 32 random bytes, identical in every process: derives DPoP nonces and CSRF tokens.
   * Random per process when omitted (then only single-process deployments work).
   */
  secret?: Uint8Array
  /** SSRF-safe fetch options for client metadata and `jwks_uri` (`allowLoopback` etc. for tests). */
  clientFetch?: ClientResolverOptions['fetch']
  /** Client IDs whose name and logo may be shown on the consent page. */
  trustedClients?: readonly string[]
  /** Accept `http://localhost` development clients (default true). */
  allowLoopbackClients?: boolean
  /**
   * Replace the default sign-in, sign-up and consent pages: called with the step to show
   * (`view.step`: `sign-in` | `sign-up` | `consent` | `error`) and everything needed to render it.
   * Return HTML (or a Response). Every form must POST to `view.actionUrl` with the `view.hidden` fields
   * (CSRF token included) and an `action` of `sign-in` (`identifier`, `password`, optional `remember`),
   * `sign-up` (`handle`, `email`, `password`, `invite_code`), `consent`, `deny` or `switch-account`.
   * The page keeps its security headers (CSP, no framing) whatever it returns.
   */
  renderAuthorizePage?: RenderAuthorizePage
  /** Lifetimes in seconds (defaults: access 15 min, PAR 5 min, code 1 min, public session 14 d…). */
  lifetimes?: Partial<OAuthLifetimes>
  /** Serve `/.well-known/oauth-protected-resource` pointing to this issuer (default true). */
  protectedResource?: boolean
  /** DPoP nonce rotation step in ms (default 60 s; a nonce is accepted for three steps). */
  dpopNonceStepMs?: number
  /** Extra `scopes_supported` entries to advertise (granular scopes are always accepted). */
  extraScopes?: readonly string[]
}

const DEFAULT_LIFETIMES: OAuthLifetimes = {
  accessToken: 15 * 60,
  par: 5 * 60,
  code: 60,
  publicSession: 14 * 24 * 3600,
  confidentialRefresh: 180 * 24 * 3600,
  confidentialSession: 10 * 365 * 24 * 3600,
  deviceSession: 30 * 24 * 3600,
}

const KNOWN_PATHS = new Set([
  '/.well-known/oauth-authorization-server',
  '/.well-known/oauth-protected-resource',
  '/oauth/par',
  '/oauth/token',
  '/oauth/revoke',
  '/oauth/jwks',
  '/oauth/authorize',
])

const CORS_PATHS = new Set([
  '/.well-known/oauth-authorization-server',
  '/.well-known/oauth-protected-resource',
  '/oauth/par',
  '/oauth/token',
  '/oauth/revoke',
  '/oauth/jwks',
])

/** The authorization server service; also hands out the matching resource-side verifier. */
export interface OAuthServer extends AtprotoService {
  /** Resolves after setup; the issuer is known from then on. */
  readonly ready: Promise<void>
  /** Issuer origin (after setup). */
  readonly issuer: string
  /** Authorization server metadata (RFC 8414). */
  metadata(): Record<string, unknown>
  /** Handle an OAuth request (null when the path is not an OAuth route). */
  fetch(request: Request, connection?: ConnectionInfo): Promise<Response | null>
  /**
   * XRPC auth verifier for this server's access tokens (`Authorization: DPoP`), with a revocation check
   * unless `{ checkRevocation: false }`.
   */
  accessTokenVerifier(opts?: { checkRevocation?: boolean; publicUrl?: string }): AuthVerifier<OAuthAuth>
}

/**
 * Create the authorization server. It is a service of the app object and gives its token verifier to the
 * PDS, whose XRPC then accepts DPoP-bound access tokens beside legacy session JWTs:
 *
 * ```ts
 * let pdsService: PdsService
 * const oauth = oauthServer({
 *   store: storage.oauth!,
 *   accounts: pdsOAuthAccounts({
 *     pds: { get context() { return pdsService.context } },
 *     currentUser: (request) => myAppSession(request)?.atprotoDid ?? null, // managed accounts
 *   }),
 *   secret, signingKey, // the same in every process
 * })
 * pdsService = pds({ ...options, oauth })
 * export const atproto = createAtproto({ services: [oauth, pdsService] })
 * ```
 *
 * It serves `/.well-known/oauth-authorization-server`, `/.well-known/oauth-protected-resource` and
 * `/oauth/*`: on Next.js add a route file for each (`app/oauth/[...path]/route.ts` and
 * `app/.well-known/oauth-authorization-server/route.ts` … exporting `toNextJsHandler(atproto)`); on
 * Express `app.use(toNodeHandler(atproto))` already serves them. The sign-in and consent pages are
 * replaced with `renderAuthorizePage` (one function, by `view.step`), or skipped for the host app's own
 * members with `currentUser` / `signInUrl` of the account provider.
 */
export function oauthServer(options: OAuthServerOptions): OAuthServer {
  const secret = options.secret ?? randomBytes(32)
  const nonces = new DpopNonces(secret, options.dpopNonceStepMs)
  const dpop = new DpopVerifier({ store: options.store, nonces })
  const lifetimes = { ...DEFAULT_LIFETIMES, ...options.lifetimes }
  if (lifetimes.accessToken > 30 * 60) throw new TypeError('Access tokens must live less than 30 minutes')
  let ctx: OAuthContext | undefined
  let publicUrl = ''
  let resolveReady!: () => void
  let rejectReady!: (err: unknown) => void
  const ready = new Promise<void>((res, rej) => {
    resolveReady = res
    rejectReady = rej
  })
  ready.catch(() => {})

  const init = async (defaultIssuer: string) => {
    const issuer = (options.issuer ?? defaultIssuer).replace(/\/+$/, '')
    const u = new URL(issuer)
    if (u.origin !== issuer) throw new TypeError(`OAuth issuer must be a bare origin, got ${issuer}`)
    const signer = await TokenSigner.create(options.signingKey)
    const store = options.store
    ctx = {
      issuer,
      audience: options.audience ?? issuer,
      store,
      accounts: options.accounts,
      clients: new ClientResolver({
        store,
        fetch: options.clientFetch,
        trustedClients: options.trustedClients,
        allowLoopbackClients: options.allowLoopbackClients,
      }),
      clientAuth: new ClientAuthenticator({ issuer, store, fetch: options.clientFetch }),
      dpop,
      nonces,
      signer,
      secret,
      lifetimes,
      renderAuthorizePage: options.renderAuthorizePage ?? renderDefaultAuthorizePage,
      endpointUrl: (name) => `${issuer}/oauth/${name}`,
    }
  }

  const metadata = (): Record<string, unknown> => {
    if (!ctx) throw new Error('OAuth server is not set up yet')
    const { issuer } = ctx
    return {
      issuer,
      authorization_endpoint: `${issuer}/oauth/authorize`,
      token_endpoint: `${issuer}/oauth/token`,
      pushed_authorization_request_endpoint: `${issuer}/oauth/par`,
      revocation_endpoint: `${issuer}/oauth/revoke`,
      jwks_uri: `${issuer}/oauth/jwks`,
      scopes_supported: [
        'atproto',
        'transition:generic',
        'transition:email',
        'transition:chat.bsky',
        ...(options.extraScopes ?? []),
      ],
      response_types_supported: ['code'],
      response_modes_supported: ['query', 'fragment'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      ui_locales_supported: ['en-US'],
      display_values_supported: ['page'],
      prompt_values_supported: [
        'none',
        'login',
        'consent',
        'select_account',
        ...(options.accounts.createAccount ? ['create'] : []),
      ],
      token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: [...DPOP_ALGORITHMS],
      dpop_signing_alg_values_supported: [...DPOP_ALGORITHMS],
      authorization_response_iss_parameter_supported: true,
      require_pushed_authorization_requests: true,
      require_request_uri_registration: true,
      request_parameter_supported: false,
      request_uri_parameter_supported: true,
      client_id_metadata_document_supported: true,
      subject_types_supported: ['public'],
      ...(options.protectedResource === false ? {} : { protected_resources: [publicUrl || issuer] }),
    }
  }

  const routes = async (
    c: OAuthContext,
    request: Request,
    path: string,
    connection: ConnectionInfo,
  ): Promise<Response | null> => {
    const m = request.method
    switch (path) {
      case '/.well-known/oauth-authorization-server':
        return m === 'GET' ? Response.json(metadata(), { headers: { 'cache-control': 'max-age=300' } }) : null
      case '/.well-known/oauth-protected-resource':
        if (options.protectedResource === false || m !== 'GET') return null
        return Response.json(
          {
            resource: publicUrl || c.issuer,
            authorization_servers: [c.issuer],
            scopes_supported: [],
            bearer_methods_supported: ['header'],
            resource_documentation: 'https://atproto.com',
          },
          { headers: { 'cache-control': 'max-age=300' } },
        )
      case '/oauth/jwks':
        return m === 'GET' ? Response.json({ keys: [c.signer.publicJwk] }) : null
      case '/oauth/par':
        return m === 'POST' ? handlePar(c, request) : null
      case '/oauth/token':
        return m === 'POST' ? handleToken(c, request) : null
      case '/oauth/revoke':
        return m === 'POST' ? handleRevoke(c, request) : null
      case '/oauth/authorize':
        return m === 'GET'
          ? handleAuthorizeGet(c, request)
          : m === 'POST'
            ? handleAuthorizePost(c, request, connection)
            : null
    }
    return null
  }

  const fetch = async (request: Request, connection: ConnectionInfo = {}): Promise<Response | null> => {
    await ready
    const c = ctx!
    const path = new URL(request.url).pathname
    const cors = CORS_PATHS.has(path)
    if (cors && request.method === 'OPTIONS') {
      return new Response(null, {
        status: 204,
        headers: {
          'access-control-allow-origin': '*',
          'access-control-allow-methods': 'GET, POST, OPTIONS',
          'access-control-allow-headers': 'Content-Type, DPoP, Authorization',
          'access-control-max-age': '86400',
        },
      })
    }
    let res: Response | null
    try {
      res = await routes(c, request, path, connection)
      if (!res && !KNOWN_PATHS.has(path)) {
        res = new OAuthError(404, 'invalid_request', `Not found: ${path}`).toResponse()
      } else if (!res) {
        res = new OAuthError(405, 'invalid_request', `${request.method} not allowed on ${path}`).toResponse()
      }
    } catch (err) {
      const e = err instanceof OAuthError ? err : new ServerError('Unexpected error', { cause: err })
      if (!(err instanceof OAuthError)) console.error('oauth: unexpected error', err)
      // Every error from a DPoP-protected endpoint carries a fresh nonce for the retry.
      res = e.toResponse(path === '/oauth/authorize' ? undefined : { 'DPoP-Nonce': c.nonces.current() })
    }
    if (cors) {
      const h = new Headers(res.headers)
      h.set('access-control-allow-origin', '*')
      h.set('access-control-expose-headers', 'DPoP-Nonce, WWW-Authenticate')
      res = new Response(res.body, { status: res.status, headers: h })
    }
    return res
  }

  return {
    name: 'oauth',
    ready,
    get issuer() {
      if (!ctx) throw new Error('OAuth server is not set up yet')
      return ctx.issuer
    },
    metadata,
    fetch,
    async setup(service: ServiceContext) {
      publicUrl = service.publicUrl
      try {
        await init(service.publicUrl)
        resolveReady()
      } catch (err) {
        rejectReady(err)
        throw err
      }
      const handler = async (request: Request, connection: ConnectionInfo) =>
        (await fetch(request, connection)) as Response
      service.route('/.well-known/oauth-authorization-server', handler)
      if (options.protectedResource !== false) service.route('/.well-known/oauth-protected-resource', handler)
      service.route('/oauth/*', handler)
    },
    accessTokenVerifier(opts = {}) {
      let verifier: AuthVerifier<OAuthAuth> | undefined
      return async (reqCtx) => {
        await ready
        const c = ctx!
        const o: DpopAccessTokenVerifierOptions = {
          signer: c.signer,
          issuer: c.issuer,
          audience: c.audience,
          dpop: c.dpop,
          publicUrl: opts.publicUrl ?? (publicUrl || undefined),
          store: opts.checkRevocation === false ? undefined : c.store,
        }
        verifier ??= dpopAccessTokenVerifier(o)
        return verifier(reqCtx)
      }
    },
  }
}
