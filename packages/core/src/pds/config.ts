import type { OAuthServer } from '../oauth/authorization-server.js'
import type { Signer } from '../plc/keys.js'
import type { BlobStore, StorageAdapter } from '../storage/types.js'

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
  /** The PDS's own DID (`aud` of its tokens); default `did:web:<host of publicUrl>`. */
  serviceDid?: string
  /** PLC directory URL, e.g. `https://plc.directory`, or this app's `/plc` in development. */
  plcUrl: string
  /** The PDS's PLC rotation key: it signs genesis and update operations of its accounts. */
  plcRotationKey: Signer
  /** Require invite codes on createAccount (default false). */
  inviteRequired?: boolean
  /** Firehose replay window (default 72 h). */
  firehoseRetentionMs?: number
  /** Max blob size in bytes (default 100 MB). */
  maxBlobSize?: number
  /** Max size in bytes of a `com.atproto.repo.importRepo` CAR (default 100 MB). */
  maxImportSize?: number
  /** Email delivery; default logs to the console. */
  email?: EmailSender
  /** Relays to notify with `requestCrawl` when the server starts (hostnames or URLs). */
  crawlers?: string[]
  /** OAuth authorization server of this PDS, whose DPoP access tokens XRPC then accepts. */
  oauth?: OAuthServer
  /** Rate limits (per window); `false` disables them. */
  rateLimits?:
    | false
    | { createSession?: { limit: number; windowMs: number }; writes?: { limit: number; windowMs: number } }
  /** Bytes of stored blocks kept in memory for the write path (default 16 MiB; 0 disables). */
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
  /** Fetch used to reach the PLC directory (tests). */
  fetch?: typeof fetch
}
