/**
 * Identity: SSRF-safe fetching, DID resolution (did:plc, did:web), handle resolution and
 * bidirectional verification, with stale-while-revalidate caching.
 * @packageDocumentation
 */
export {
  type CachedIdentity,
  type IdentityCache,
  MemoryIdentityCache,
  SwrCache,
  type SwrOptions,
} from './cache.js'
export {
  type AtprotoData,
  type DidDocument,
  type DidService,
  getAtprotoData,
  getHandle,
  getPdsEndpoint,
  getServiceEndpoint,
  getVerificationKey,
  parseDidDocument,
  type VerificationMethod,
  verificationMethodToDidKey,
} from './did-document.js'
export { DidResolver, type DidResolverOptions, type ResolverNetworkOptions } from './did-resolver.js'
export {
  DidNotFoundError,
  HandleNotFoundError,
  IdentityError,
  IdentityResolutionError,
  InvalidDidDocumentError,
  InvalidHandleError,
  PoorlyFormattedDidError,
  UnsupportedDidMethodError,
} from './errors.js'
export { HandleResolver, type HandleResolverOptions } from './handle-resolver.js'
export {
  IdentityResolver,
  type IdentityResolverOptions,
  INVALID_HANDLE,
  type ResolvedIdentity,
} from './identity-resolver.js'
export { type AddressClass, classifyAddress } from './ip-ranges.js'
export { type ResolvedAddress, type SafeFetchOptions, SafeResponse, safeFetch } from './safe-fetch.js'
export {
  FetchNetworkError,
  FetchTimeoutError,
  ResponseTooLargeError,
  SafeFetchError,
  SsrfBlockedError,
  TooManyRedirectsError,
} from './safe-fetch-errors.js'
