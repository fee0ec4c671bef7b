/**
 * DIDs the PDS did not mint through PLC: did:web documents the app hosts at its own domains
 * (`did:web:alice.example.org`, served at that host's `/.well-known/did.json`), and bring-your-own DIDs
 * (did:web or did:plc) whose control the caller proves with a service-auth JWT signed by the DID's key.
 */
import type { RouteHandler } from '../atproto.js'
import {
  type DidDocument,
  getPdsEndpoint,
  getVerificationKey,
  parseDidDocument,
} from '../identity/did-document.js'
import { isValidDid } from '../identity/syntax.js'
import { MemoryOAuthStore, type OAuthStore } from '../oauth/store.js'
import { verifySignature } from '../plc/keys.js'
import { isPlcDid } from '../plc/operations.js'
import type { AccountRow } from '../storage/types.js'
import { serviceJwtVerifier } from '../xrpc/auth.js'
import type { RequestContext } from '../xrpc/types.js'
import { InvalidRequestError } from '../xrpc/xrpc-error.js'
import type { PdsContext } from './context.js'
import { AccountSigningKey } from './signing-key.js'

const DID_CONTEXT = [
  'https://www.w3.org/ns/did/v1',
  'https://w3id.org/security/multikey/v1',
  'https://w3id.org/security/suites/secp256k1-2019/v1',
]

/** The host (with `:port` for localhost) a hostname-level did:web names, or null. */
export function didWebHost(did: string): string | null {
  if (!did.startsWith('did:web:')) return null
  const id = did.slice('did:web:'.length)
  if (id.includes(':')) return null // path-based did:web is not atproto
  try {
    return decodeURIComponent(id).toLowerCase()
  } catch {
    return null
  }
}

/** The did:web of a host (`localhost:3000` → `did:web:localhost%3A3000`). */
export const didWebForHost = (host: string): string => `did:web:${host.toLowerCase().replace(':', '%3A')}`

/**
 * Whether this app hosts `did` (a did:web): `hostedDidWeb: true` hosts did:web DIDs whose host is
 * under the app's handle domains; a predicate of the host decides otherwise.
 */
export function isHostedDidWeb(ctx: PdsContext, did: string): boolean {
  const host = didWebHost(did)
  const rule = ctx.options.hostedDidWeb
  // Only the canonical (lower-case) spelling: the document is looked up by the DID of the Host header.
  if (!host || !rule || did !== didWebForHost(host)) return false
  return typeof rule === 'function' ? rule(host) : ctx.handles.classify(host).kind === 'service'
}

/**
 * Whether a new account with `handle` may take the hosted `did`: with `hostedDidWeb: true` only its own
 * handle's host (`did:web:<handle>`); with a predicate, any host it allows. The DID stays the account's
 * when its handle changes later.
 */
export function mayCreateHostedDidWeb(ctx: PdsContext, did: string, handle: string): boolean {
  if (!isHostedDidWeb(ctx, did)) return false
  return typeof ctx.options.hostedDidWeb === 'function' || didWebHost(did) === handle.toLowerCase()
}

/** The DID document this app publishes for an account whose did:web it hosts. */
export function hostedDidDocument(
  ctx: PdsContext,
  account: Pick<AccountRow, 'did' | 'handle' | 'signingKey'>,
) {
  const key = AccountSigningKey.fromBytes(account.signingKey).did()
  return {
    '@context': DID_CONTEXT,
    id: account.did,
    alsoKnownAs: [`at://${account.handle}`],
    verificationMethod: [
      {
        id: `${account.did}#atproto`,
        type: 'Multikey',
        controller: account.did,
        publicKeyMultibase: key.slice('did:key:'.length),
      },
    ],
    service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: ctx.publicUrl }],
  }
}

const didJson = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/did+ld+json', 'cache-control': 'public, max-age=300' },
  })

/**
 * `GET /.well-known/did.json`, chosen by `Host`: the PDS's own service DID (when it is the did:web of
 * its public host) or a hosted account's document. One account lookup per request; resolvers cache.
 */
export function didJsonRoute(ctx: PdsContext): RouteHandler {
  return async (request) => {
    const did = didWebForHost(new URL(request.url).host)
    if (did === ctx.serviceDid) {
      return didJson({
        '@context': ['https://www.w3.org/ns/did/v1'],
        id: did,
        service: [{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: ctx.publicUrl }],
      })
    }
    const account = ctx.options.hostedDidWeb ? await ctx.storage.accounts.getByDid(did) : null
    if (!account || account.status === 'deleted' || !isHostedDidWeb(ctx, did)) {
      return didJson({ error: 'NotFound', message: 'No DID document for this host' }, 404)
    }
    return didJson(hostedDidDocument(ctx, account))
  }
}

/**
 * The current DID document of an account: rendered locally for hosted did:web, from the PLC directory
 * for did:plc, else resolved (fresh) through the PDS's SSRF-safe resolver.
 */
export async function currentDidDocument(
  ctx: PdsContext,
  did: string,
  opts: { account?: AccountRow | null } = {},
): Promise<DidDocument> {
  try {
    if (isPlcDid(did)) return parseDidDocument(await ctx.plc.getDocument(did), did)
    const account = opts.account === undefined ? await ctx.storage.accounts.getByDid(did) : opts.account
    if (account && isHostedDidWeb(ctx, did)) {
      return parseDidDocument(hostedDidDocument(ctx, account), did)
    }
    return await ctx.identity.did.resolve(did, { forceRefresh: true })
  } catch (err) {
    throw new InvalidRequestError(
      `Could not resolve DID document of ${did}: ${(err as Error).message}`,
      'InvalidRequest',
      { cause: err },
    )
  }
}

/**
 * Verify a service-auth JWT addressed to this PDS (aud = its DID, lxm = the called method) and signed by
 * the issuer DID's current `#atproto` key; returns that DID. Each token is accepted once (by `jti`, which
 * the reference's and our `getServiceAuth` always set): these tokens authorize state changes (an account
 * for an existing DID, community handles) whose body the token does not cover, so a token seen in
 * transit must not be usable again before it expires.
 * @throws {AuthRequiredError} for a missing, invalid or replayed token
 */
export async function verifyServiceAuthIssuer(ctx: PdsContext, rc: RequestContext): Promise<string> {
  const verify = serviceJwtVerifier<string>({
    audience: ctx.serviceDid,
    checkReplay: (jti, exp, iss) => firstUse(ctx, `${iss} ${jti}`, exp * 1000 - Date.now()),
    async resolveSigningKey(iss) {
      const key = getVerificationKey(await currentDidDocument(ctx, iss, { account: null }))
      if (!key) throw new Error('DID document has no #atproto key')
      return key
    },
    verifySignature: (key, message, signature) => verifySignature(key, message, signature),
  })
  return (await verify(rc)).iss
}

/**
 * Verify the proof that accompanies `createAccount` with an existing DID: a service-auth JWT (iss = the
 * DID, aud = this PDS, lxm = com.atproto.server.createAccount) signed by the DID's current key.
 * @throws {AuthRequiredError} for a missing or invalid token; {@link InvalidRequestError} when `iss` is
 *   not the requested DID
 */
export async function verifyDidControl(ctx: PdsContext, rc: RequestContext, did: string): Promise<void> {
  if ((await verifyServiceAuthIssuer(ctx, rc)) !== did) {
    throw new InvalidRequestError('The service-auth token was issued by another DID', 'IncompatibleDidDoc')
  }
}

/**
 * Check that an account's DID document names this PDS and the account's signing key: required before an
 * account with a brought-in DID is activated (as the reference does on activateAccount).
 */
export async function assertDidDocForThisPds(ctx: PdsContext, account: AccountRow): Promise<void> {
  const doc = await currentDidDocument(ctx, account.did, { account })
  const pds = getPdsEndpoint(doc)?.replace(/\/+$/, '')
  if (pds !== ctx.publicUrl) {
    throw new InvalidRequestError(
      `DID document #atproto_pds is ${pds ?? 'missing'}, not this server (${ctx.publicUrl})`,
      'InvalidRequest',
    )
  }
  if (getVerificationKey(doc) !== AccountSigningKey.fromBytes(account.signingKey).did()) {
    throw new InvalidRequestError(
      "DID document #atproto key is not this account's signing key (see getRecommendedDidCredentials)",
      'InvalidRequest',
    )
  }
}

/** A DID a user may bring: did:plc, or a hostname-level did:web. @throws {InvalidRequestError} */
export function assertBringableDid(did: string): void {
  if (isPlcDid(did) || (didWebHost(did) !== null && isValidDid(did))) return
  throw new InvalidRequestError(`Unsupported DID: ${did} (did:plc or hostname did:web)`, 'IncompatibleDidDoc')
}

/**
 * A handle outside this server's domains is only taken when it resolves (DNS TXT or HTTPS well-known,
 * freshly) to the DID, as handle.md requires.
 */
export async function assertHandleResolvesTo(ctx: PdsContext, handle: string, did: string): Promise<void> {
  const resolved = await ctx.identity.handle.resolve(handle, { forceRefresh: true }).catch(() => null)
  if (resolved !== did) {
    throw new InvalidRequestError(`External handle did not resolve to DID: ${handle}`, 'InvalidHandle')
  }
}

/** Margin kept past a token's expiry (clock skew between issuer and us). */
const REPLAY_MARGIN_MS = 5 * 60_000
const SERVICE_AUTH_NS = 'service-auth-jti'
const seenHere = new WeakMap<PdsContext, MemoryOAuthStore>()

/**
 * True the first time `key` is seen. Through the storage (atomic, shared by every process) when it has
 * the OAuth store; otherwise in this process's memory.
 */
async function firstUse(ctx: PdsContext, key: string, ttlMs: number): Promise<boolean> {
  let store: Pick<OAuthStore, 'unique'> | undefined = ctx.storage.oauth ?? seenHere.get(ctx)
  if (!store) seenHere.set(ctx, (store = new MemoryOAuthStore()))
  return store.unique(SERVICE_AUTH_NS, key, Math.max(0, ttlMs) + REPLAY_MARGIN_MS)
}
