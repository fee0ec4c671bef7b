import type { IdentityCache } from './cache.js'
import { type DidDocument, getHandle, getPdsEndpoint, getVerificationKey } from './did-document.js'
import { DidResolver, type DidResolverOptions } from './did-resolver.js'
import { HandleNotFoundError, InvalidHandleError } from './errors.js'
import { HandleResolver, type HandleResolverOptions } from './handle-resolver.js'
import { isValidHandle, normalizeHandle } from './syntax.js'

/** A resolved, bidirectionally checked atproto identity. */
export interface ResolvedIdentity {
  did: string
  /** The verified handle, or `handle.invalid` when the DID document and handle do not agree. */
  handle: string
  didDoc: DidDocument
  /** The `#atproto` signing key as a did:key (absent in a broken document). */
  signingKey?: string
  /** The `#atproto_pds` endpoint (absent in a broken document). */
  pdsUrl?: string
}

/** Options of {@link IdentityResolver}: shared by its DID and handle resolvers. */
export type IdentityResolverOptions = DidResolverOptions & HandleResolverOptions & { cache?: IdentityCache }

/** The handle shown for an account without a bidirectionally valid handle. */
export const INVALID_HANDLE = 'handle.invalid'

/** DID + handle resolution with bidirectional verification. */
export class IdentityResolver {
  readonly did: DidResolver
  readonly handle: HandleResolver

  constructor(opts: IdentityResolverOptions = {}) {
    this.did = new DidResolver(opts)
    this.handle = new HandleResolver(opts)
  }

  /**
   * Resolve a DID or handle (a leading `@` is accepted) to a verified identity: the DID document's
   * claimed handle must resolve back to the DID, otherwise `handle` is `handle.invalid`.
   * @throws {HandleNotFoundError} when a handle resolves to no DID; DID resolution errors as
   *   {@link DidResolver.resolve}
   */
  async resolveIdentity(
    handleOrDid: string,
    opts: { forceRefresh?: boolean } = {},
  ): Promise<ResolvedIdentity> {
    let input = handleOrDid.trim()
    if (input.startsWith('@')) input = input.slice(1)
    if (input.startsWith('did:')) {
      const didDoc = await this.did.resolve(input, opts)
      const claimed = getHandle(didDoc)
      let handle = INVALID_HANDLE
      if (claimed) {
        const back = await this.handle.resolve(claimed, opts).catch(() => null)
        if (back === input) handle = claimed
      }
      return this.result(input, handle, didDoc)
    }
    const handle = normalizeHandle(input)
    if (!isValidHandle(handle)) throw new InvalidHandleError(input)
    const did = await this.handle.resolve(handle, opts)
    if (!did) throw new HandleNotFoundError(handle)
    const didDoc = await this.did.resolve(did, opts)
    return this.result(did, getHandle(didDoc) === handle ? handle : INVALID_HANDLE, didDoc)
  }

  private result(did: string, handle: string, didDoc: DidDocument): ResolvedIdentity {
    return { did, handle, didDoc, signingKey: getVerificationKey(didDoc), pdsUrl: getPdsEndpoint(didDoc) }
  }
}
