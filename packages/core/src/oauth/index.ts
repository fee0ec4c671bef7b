/**
 * OAuth authorization server (atproto profile): PAR, DPoP, PKCE, client ID metadata documents,
 * token rotation, granular scopes, and the resource-side DPoP verifier.
 * @module
 */
export * from './accounts.js'
export * from './authorization-server.js'
export * from './authorize-page.js'
export * from './client-auth.js'
export * from './client-metadata.js'
export type { OAuthLifetimes, RenderAuthorizePage } from './context.js'
export * from './dpop.js'
export * from './errors.js'
export { REQUEST_URI_PREFIX } from './par-endpoint.js'
export * from './pds-accounts.js'
export * from './resource.js'
export * from './scopes.js'
export * from './store.js'
export {
  type AccessTokenClaims,
  AccessTokenError,
  hashToken,
  TokenSigner,
} from './tokens.js'
