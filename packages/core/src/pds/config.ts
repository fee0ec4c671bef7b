import type { IdentityResolverOptions } from '../identity/identity-resolver.js'
import type { OAuthServer } from '../oauth/authorization-server.js'
import type { Signer } from '../plc/keys.js'
import type { BlobStore, StorageAdapter } from '../storage/types.js'
import type { HandleHostCacheOptions } from './community-handles.js'
import type { PdsJobsOptions } from './jobs.js'

/** Sends account emails (password reset, account deletion); logged to the console in development. */
export interface EmailSender {
  send(message: { to: string; subject: string; text: string }): Promise<void>
}

/** Options of {@link pds}. */
export interface PdsOptions {
  storage: StorageAdapter
  blobstore: BlobStore
  /** HS256 secret of legacy session tokens (at least 32 bytes of entropy). */
  jwtSecret: string | Uint8Array
  /** Domains handles are given under (`.forum.example`); see HandlePolicy. */
  handleDomains: string[]
  /** Reserved first labels (defaults to a built-in list). */
  reservedHandles?: string[]
  /** Length bounds of the first label of handles under `handleDomains` (default 3 to 18). */
  handleLength?: { min?: number; max?: number }
  /** The PDS's own DID (`aud` of its tokens); default `did:web:<host of publicUrl>`. */
  serviceDid?: string
  /** PLC directory URL, e.g. `https://plc.directory`, or this app's `/plc` in development. */
  plcUrl: string
  /** The PDS's PLC rotation key: it signs genesis and update operations of its accounts. */
  plcRotationKey: Signer
  /** Require invite codes on createAccount (default false). */
  inviteRequired?: boolean
  /**
   * Firehose replay window (default 72 h): older cursors get `#info OutdatedCursor` and replay from the
   * oldest retained event; the retention job deletes older events.
   */
  firehoseRetentionMs?: number
  /**
   * Background jobs (firehose retention, blob garbage collection) and their settings; `false` leaves
   * them unscheduled (run them yourself through `service.jobs`, e.g. from a cron process).
   */
  jobs?: false | PdsJobsOptions
  /** Max blob size in bytes (default 100 MB). */
  maxBlobSize?: number
  /** Max size in bytes of a `com.atproto.repo.importRepo` CAR (default 100 MB). */
  maxImportSize?: number
  /** Email delivery; default logs to the console. */
  email?: EmailSender
  /**
   * Relays to notify with `requestCrawl` (hostnames or URLs): on start and after writes, at most once
   * per `crawlIntervalMs`.
   */
  crawlers?: string[]
  /** Least time between two requestCrawl rounds (default 20 minutes). */
  crawlIntervalMs?: number
  /** OAuth authorization server of this PDS, whose DPoP access tokens XRPC then accepts. */
  oauth?: OAuthServer
  /** Rate limits (per window); `false` disables them. */
  rateLimits?:
    | false
    | { createSession?: { limit: number; windowMs: number }; writes?: { limit: number; windowMs: number } }
  /**
   * Largest `sync.getRepo` export (bytes) read from one snapshot and buffered before it is sent
   * (default 32 MiB; 0 streams every export). A commit deletes the nodes it replaced, so a streamed
   * export, which reads batch by batch, is cut off when the repo changes meanwhile; a buffered one is not.
   */
  exportBufferBytes?: number
  /**
   * Bytes of stored blocks kept in memory for the write path (default 16 MiB; 0 disables), and about as
   * much again of decoded MST nodes.
   */
  blockCacheBytes?: number
  /**
   * Password of the operator's admin API (`com.atproto.admin.*`, HTTP Basic `admin:<password>`); without
   * it every admin call is refused.
   */
  adminPassword?: string
  /**
   * The moderation service `com.atproto.moderation.createReport` forwards reports to (its DID and
   * endpoint URL, set by the operator); without it createReport answers 501.
   */
  reportService?: { did: string; url: string; fetch?: typeof fetch }
  /**
   * did:web DIDs the app hosts (document served at the DID's host, `/.well-known/did.json`, by Host):
   * `true` hosts those under `handleDomains`, and a new account may take `did:web:<its handle>`; a
   * predicate of the host decides which hosts are the app's (any account may take one). Accounts ask
   * with createAccount's `did`. Default: none.
   */
  hostedDidWeb?: boolean | ((host: string) => boolean)
  /**
   * Resolution of DIDs and handles users bring (bring-your-own DIDs, external handles): SSRF-safe by
   * default; tests and local networks may opt in to loopback here.
   */
  identity?: IdentityResolverOptions
  /**
   * Community handles for DIDs hosted elsewhere: `selfService` (default true) lets members register
   * and revoke through XRPC with a service-auth proof; otherwise only server code
   * (`registerCommunityHandle`) does. `perDid` caps registrations per DID (default 3; checked before
   * insert, so a burst of concurrent requests may pass it by a few).
   */
  communityHandles?: { selfService?: boolean; perDid?: number }
  /** Cache of `/.well-known/atproto-did` host lookups (default 60 s TTL); see community-handles.ts. */
  handleHostCache?: HandleHostCacheOptions
  /** Fetch used to reach the PLC directory (tests). */
  fetch?: typeof fetch
}
