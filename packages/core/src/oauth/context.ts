/** Shared state of the authorization server's endpoints, and form-body helpers. */
import type { OAuthAccountProvider } from './accounts.js'
import type { AuthorizePageView } from './authorize-page.js'
import type { ClientAuthenticator } from './client-auth.js'
import type { ClientResolver } from './client-metadata.js'
import type { DpopNonces, DpopVerifier } from './dpop.js'
import { OAuthInvalidRequestError } from './errors.js'
import type { OAuthStore } from './store.js'
import type { TokenSigner } from './tokens.js'

/** Lifetimes, in seconds. */
export interface OAuthLifetimes {
  accessToken: number
  par: number
  code: number
  /** Whole-session and refresh-token limit of public clients (spec: 2 weeks). */
  publicSession: number
  /** Refresh-token lifetime of confidential clients (spec: at most 180 days). */
  confidentialRefresh: number
  /** Whole-session limit of confidential clients (spec allows unlimited). */
  confidentialSession: number
  /** "Remember this device" sign-in. */
  deviceSession: number
}

/** Replaces the default authorize page; return HTML or a full Response. */
export type RenderAuthorizePage = (
  view: AuthorizePageView,
  request: Request,
) => string | Response | Promise<string | Response>

export interface OAuthContext {
  issuer: string
  audience: string
  store: OAuthStore
  accounts: OAuthAccountProvider
  clients: ClientResolver
  clientAuth: ClientAuthenticator
  dpop: DpopVerifier
  nonces: DpopNonces
  signer: TokenSigner
  secret: Uint8Array
  lifetimes: OAuthLifetimes
  renderAuthorizePage: RenderAuthorizePage
  /** Path prefix of the endpoints, e.g. `/oauth`. */
  endpointUrl(name: 'par' | 'authorize' | 'token' | 'revoke' | 'jwks'): string
}

/** Parse an `application/x-www-form-urlencoded` body, rejecting repeated parameters (RFC 6749 §3.1). */
export async function readForm(request: Request, maxBytes = 64 * 1024): Promise<URLSearchParams> {
  const type = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase()
  if (type !== 'application/x-www-form-urlencoded') {
    throw new OAuthInvalidRequestError('Content-Type must be application/x-www-form-urlencoded')
  }
  const text = await request.text()
  if (text.length > maxBytes) throw new OAuthInvalidRequestError('Request body too large')
  const form = new URLSearchParams(text)
  const seen = new Set<string>()
  for (const key of form.keys()) {
    if (seen.has(key)) throw new OAuthInvalidRequestError(`Parameter "${key}" must not be repeated`)
    seen.add(key)
  }
  return form
}

/** JSON response with `no-store` (every token-bearing answer) and extra headers. */
export function jsonResponse(status: number, body: unknown, headers?: HeadersInit): Response {
  const h = new Headers(headers)
  h.set('content-type', 'application/json')
  h.set('cache-control', 'no-store')
  return new Response(JSON.stringify(body), { status, headers: h })
}
