/**
 * OAuth client (atproto profile) for AppViews: sign users of any PDS in with a handle, DID or server
 * URL; DPoP-bound requests to their PDS; refresh serialized across processes through the store.
 * @module
 */
export * from './client-metadata.js'
export * from './errors.js'
export type { OAuthClientFetchOptions } from './http.js'
export { type AuthorizeOptions, OAuthClient, type OAuthClientOptions } from './oauth-client.js'
export {
  type AuthorizationServerMetadata,
  assertServesResource,
  fetchAuthorizationServerMetadata,
  fetchProtectedResourceIssuer,
} from './server-metadata.js'
export { OAuthSession } from './session.js'
export * from './store.js'
