import type { OAuthServer } from '../oauth/authorization-server.js'
import type { Signer } from '../plc/keys.js'
import type { BlobStore, StorageAdapter } from '../storage/types.js'
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
  /** Fetch used to reach the PLC directory (tests). */
  fetch?: typeof fetch
}
