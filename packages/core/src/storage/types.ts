/**
 * The one storage interface of the framework: narrow per-domain stores combined into a
 * {@link StorageAdapter}. Adapters (packages/adapters: Prisma on SQLite/PostgreSQL/MySQL, in-memory)
 * implement primitives; the services derive everything else. Methods marked **Atomic** must hold under
 * concurrent callers, across processes for database adapters.
 */
import type { CID } from '../data/cid.js'
import type { CachedIdentity, IdentityCache } from '../identity/cache.js'
import type { OAuthStore } from '../oauth/store.js'
import type { OAuthClientStore } from '../oauth-client/store.js'
import type { PlcStore } from '../plc/store.js'
import type { BlockMap } from '../repo/block-map.js'
import type { BlockStore } from '../repo/block-store.js'

export type { CachedIdentity, IdentityCache, OAuthClientStore, OAuthStore, PlcStore }

/** A record's row in the per-repo index. */
export interface RecordRow {
  collection: string
  rkey: string
  cid: CID
  /** Rev of the commit that wrote this version. */
  repoRev: string
  indexedAt: Date
}

/** Reads of one repository; a reader is a {@link BlockStore} (writes through it are refused outside transact). */
export interface RepoReader extends BlockStore {
  /** Current commit of the repo, or null when it has none (unknown DID). */
  getRoot(): Promise<{ cid: CID; rev: string } | null>
  getRecord(collection: string, rkey: string): Promise<RecordRow | null>
  /** Records of a collection ordered by rkey (descending unless `reverse`), after `cursor` (an rkey). */
  listRecords(
    collection: string,
    opts: { limit: number; cursor?: string; reverse?: boolean },
  ): Promise<RecordRow[]>
  listCollections(): Promise<string[]>
  countRecords(): Promise<number>
  /** Blocks written by commits after `since` (a rev), for `getRepo?since=` (any order). */
  blocksSince(since: string): Promise<BlockMap>
  /**
   * Optional paged export for streaming `getRepo?since=` without holding the whole diff in memory:
   * blocks written by commits after `since` (every block when absent), ordered by (rev, CID); pass the
   * returned `cursor` back as `after` until it is null. Pages are stable under concurrent commits (new
   * blocks carry later revs, so they land after the cursor). Core falls back to {@link blocksSince}.
   */
  exportBlocks?(opts: { since?: string; after?: string; limit: number }): Promise<BlockPage>
}

/** One page of {@link RepoReader.exportBlocks}. */
export interface BlockPage {
  blocks: BlockMap
  /** Opaque position after the last block of this page; null on the last page. */
  cursor: string | null
}

/**
 * Writes of one repository inside one database transaction: blocks, record rows, root and firehose
 * events all commit together or not at all. Point reads (`getRoot`, `getRecord`, `getBlocks`) see the
 * transaction's own writes; listing reads may show the repo as the transaction found it (the SQLite
 * direct store collects writes until the commit), so do not list what the same transaction changed.
 */
export interface RepoTransactor extends RepoReader {
  /** Store blocks written by commit `rev` (existing CIDs are kept). */
  putBlocks(blocks: BlockMap, rev?: string): Promise<void>
  /**
   * Delete blocks. Only for blocks no longer referenced by the new root (the commit's `staleBlocks`):
   * the adapter does not check references, the caller (the repo layer, which diffed the MST) does.
   */
  deleteBlocks(cids: CID[]): Promise<void>
  putRecord(row: Omit<RecordRow, 'indexedAt'>): Promise<void>
  deleteRecord(collection: string, rkey: string): Promise<void>
  /**
   * Delete the blocks of records a commit replaced or deleted, except those a record row of the repo
   * still points at once this transaction's record writes are applied (identical records share one
   * block). Call it after the commit's `putRecord`/`deleteRecord`. Point reads later in the same
   * transaction may still find these blocks.
   */
  deleteRecordBlocks(cids: CID[]): Promise<void>
  updateRoot(cid: CID, rev: string): Promise<void>
  /**
   * Append firehose events in this transaction. Their sequence numbers are assigned when the
   * transaction commits, in commit order (so readers never see a gap).
   */
  sequence(events: SeqInsert[]): Promise<void>
}

/** Repositories, one unit of work per DID. */
export interface RepoStore {
  /** Run `fn` against a consistent view of the repo (no writes; concurrent with other readers). */
  read<T>(did: string, fn: (reader: RepoReader) => Promise<T>): Promise<T>
  /**
   * **Atomic.** Run `fn` in one transaction; writes of one DID are serialized (across processes for
   * database adapters), so `fn` always sees the latest root. A throw rolls everything back. Do not
   * call `transact` for the same DID inside `fn`: it would wait for itself. Adapters that give up on a
   * lock throw {@link ConcurrentWriteError} (nothing written; retry the whole unit of work).
   */
  transact<T>(did: string, fn: (tx: RepoTransactor) => Promise<T>): Promise<T>
  /** Remove every block, record and the root of a repo (serialized with `transact` on the DID). */
  destroy(did: string): Promise<void>
  /**
   * Optional, **atomic**: a record's CID and block bytes as of one committed state, in one read (a
   * join, no transaction): the hot path of `getRecord`. Null when the record or its block is absent.
   * Without it the PDS uses {@link read}.
   */
  getRecordBlock?(
    did: string,
    collection: string,
    rkey: string,
  ): Promise<{ cid: CID; bytes: Uint8Array; repoRev: string } | null>
}

/** A firehose event to append: `body` is DAG-CBOR without `seq`. */
export interface SeqInsert {
  did: string
  type: 'commit' | 'sync' | 'identity' | 'account'
  body: Uint8Array
}

/** A stored firehose event. */
export interface SeqRow extends SeqInsert {
  seq: number
  time: Date
}

/**
 * The firehose log. **No gaps visible to readers**: a reader never sees `seq` N+1 before every
 * event up to N that will ever exist is visible (sequence numbers are assigned in commit order).
 */
export interface SequencerStore {
  /** **Atomic.** Append events outside a repo transaction (identity, account); returns their seqs. */
  append(events: SeqInsert[]): Promise<number[]>
  /** Events with `seq > after`, ascending. */
  range(opts: { after?: number; limit: number }): Promise<SeqRow[]>
  latest(): Promise<number | null>
  earliest(): Promise<number | null>
  /**
   * Optional: the first seq appended strictly after `time`, or null; for cursor windows (start a
   * consumer at "72 hours ago", decide whether a cursor fell out of the retention window).
   */
  earliestAfter?(time: Date): Promise<number | null>
  /**
   * Drop events older than `before` (retention window); returns how many were dropped. Adapters delete
   * in bounded batches (no long lock on the log) and always keep the newest event, so the log's
   * position survives (a cursor at or below it is outdated, never "future").
   */
  deleteBefore(before: Date): Promise<number>
  /** Optional in-process wake-up when this process appends (a commit of this adapter instance). */
  onAppend?(listener: () => void): () => void
  /**
   * Optional cross-process wake-up: `onWake` is called soon after **any** process sharing the database
   * appends events (PostgreSQL LISTEN/NOTIFY, a cheap change check elsewhere). Calls may be spurious
   * or coalesce several appends: the caller re-reads the log with {@link range} after each one. The
   * adapter reconnects on its own after an error and calls `onWake` once listening again (appends
   * during the outage were not announced). Returns a function that stops watching; the adapter's
   * resources (a dedicated connection) are released when the last watcher leaves or on close().
   */
  watch?(onWake: () => void): () => void
}

/** Hosting status of an account. */
export type AccountStatusValue = 'active' | 'deactivated' | 'takendown' | 'deleted'

/** An account row. */
export interface AccountRow {
  did: string
  handle: string
  email: string | null
  emailConfirmedAt: Date | null
  /** null for members who sign in through the host app only. */
  passwordHash: string | null
  /** Private repo signing key (secp256k1, 32 bytes). */
  signingKey: Uint8Array
  status: AccountStatusValue
  createdAt: Date
  deactivatedAt: Date | null
}

/** A stored refresh token of a legacy session. */
export interface RefreshTokenRow {
  id: string
  did: string
  appPasswordName: string | null
  expiresAt: Date
  /** Id of the token this one was rotated to; rotation removes the row, so stored rows carry null. */
  nextId: string | null
}

/** An app password. */
export interface AppPasswordRow {
  did: string
  name: string
  passwordHash: string
  privileged: boolean
  createdAt: Date
}

/** Accounts, sessions, app passwords and email tokens. */
export interface AccountStore {
  /**
   * **Atomic.** Create an account; throws {@link HandleTakenError} when the handle is held and
   * {@link UniqueConstraintError} (field `did` or `email`) for the other unique values.
   */
  create(row: Omit<AccountRow, 'createdAt' | 'deactivatedAt' | 'emailConfirmedAt'>): Promise<void>
  getByDid(did: string): Promise<AccountRow | null>
  getByHandle(handle: string): Promise<AccountRow | null>
  getByEmail(email: string): Promise<AccountRow | null>
  list(opts: { limit: number; cursor?: string }): Promise<AccountRow[]>
  /** **Atomic.** Throws {@link HandleTakenError} when another account holds the handle. */
  updateHandle(did: string, handle: string): Promise<void>
  updateEmail(did: string, email: string | null): Promise<void>
  updatePassword(did: string, passwordHash: string): Promise<void>
  updateStatus(did: string, status: AccountStatusValue): Promise<void>
  delete(did: string): Promise<void>

  createRefreshToken(row: RefreshTokenRow): Promise<void>
  getRefreshToken(id: string): Promise<RefreshTokenRow | null>
  /**
   * **Atomic.** Retire `id` in favour of `nextId` (already created by the caller): the old row is
   * removed, so exactly one of several concurrent rotations returns true; false when it was already
   * rotated or revoked (reuse). A grace period for retries is the service's policy, not storage's.
   */
  rotateRefreshToken(id: string, nextId: string): Promise<boolean>
  deleteRefreshToken(id: string): Promise<void>
  deleteRefreshTokensForDid(did: string, appPasswordName?: string): Promise<void>

  createAppPassword(row: AppPasswordRow): Promise<void>
  listAppPasswords(did: string): Promise<AppPasswordRow[]>
  deleteAppPassword(did: string, name: string): Promise<void>

  /** Store a single-use email token (password reset, account deletion, email update). */
  createEmailToken(row: { did: string; purpose: string; token: string; expiresAt: Date }): Promise<void>
  /** **Atomic.** Consume a token exactly once; the DID when valid and unexpired, else null. */
  consumeEmailToken(purpose: string, token: string): Promise<string | null>
}

/** A community handle: a handle under one of the app's domains, for a DID hosted on any PDS. */
export interface CommunityHandleRow {
  /** Lower-case handle, e.g. `alice.example.org`. */
  handle: string
  did: string
  createdAt: Date
}

/** Community handles the app serves at `/.well-known/atproto-did`. */
export interface CommunityHandleStore {
  /** **Atomic.** Register a handle; throws {@link HandleTakenError} when it is registered already. */
  create(row: Omit<CommunityHandleRow, 'createdAt'>): Promise<void>
  get(handle: string): Promise<CommunityHandleRow | null>
  /** The handles registered for a DID, oldest first. */
  listForDid(did: string): Promise<CommunityHandleRow[]>
  /** Remove a registration; false when there was none. */
  delete(handle: string): Promise<boolean>
}

/** An invite code and its uses. */
export interface InviteCodeRow {
  code: string
  /** How many accounts may sign up with it. */
  availableUses: number
  disabled: boolean
  /** Account the code was issued to (`admin` for codes minted by the operator). */
  forAccount: string
  createdBy: string
  createdAt: Date
  uses: Array<{ usedBy: string; usedAt: Date }>
}

/** Invite codes (`com.atproto.server.createInviteCode(s)`, createAccount with `inviteCode`). */
export interface InviteCodeStore {
  create(
    codes: Array<{ code: string; availableUses: number; forAccount: string; createdBy: string }>,
  ): Promise<void>
  get(code: string): Promise<InviteCodeRow | null>
  /**
   * **Atomic.** Record one use of `code` by `usedBy`; false when the code is unknown, disabled or has no
   * use left (exactly `availableUses` concurrent callers win).
   */
  use(code: string, usedBy: string): Promise<boolean>
  /** Codes issued to an account, newest first. */
  listForAccount(did: string): Promise<InviteCodeRow[]>
  /** Disable the given codes and every code issued to the given accounts. */
  disable(opts: { codes?: string[]; accounts?: string[] }): Promise<void>
}

/** Metadata of a blob; bytes live in a {@link BlobStore}. */
export interface BlobRow {
  did: string
  cid: CID
  mimeType: string
  size: number
  /** Key in the blob store while the blob is not yet referenced by a record. */
  tempKey: string | null
  takedown: boolean
  /** Upload time, refreshed when a write claims the blob ({@link BlobMetaStore.claim}). */
  createdAt: Date
}

/** Blob metadata and references from records. */
export interface BlobMetaStore {
  /** Record an uploaded blob (temporary until a record references it). Re-uploads are no-ops. */
  track(row: Omit<BlobRow, 'createdAt' | 'takedown'>): Promise<void>
  get(did: string, cid: CID): Promise<BlobRow | null>
  /** **Atomic.** Make temporary blobs permanent and reference them from `recordUri`. */
  addRefs(did: string, recordUri: string, cids: CID[]): Promise<void>
  /** Drop references of `recordUri`; returns the CIDs no record references anymore. */
  removeRefs(did: string, recordUri: string): Promise<CID[]>
  list(did: string, opts: { limit: number; cursor?: string }): Promise<CID[]>
  /** Referenced CIDs the account has no blob for (`listMissingBlobs`). */
  listMissing(
    did: string,
    opts: { limit: number; cursor?: string },
  ): Promise<Array<{ cid: CID; recordUri: string }>>
  /** Temporary blobs older than `before`, for garbage collection. */
  listStaleTemp(before: Date, limit: number): Promise<BlobRow[]>
  delete(did: string, cids: CID[]): Promise<void>
  /**
   * Optional, for garbage collection of bytes (which a {@link BlobStore} keeps once per CID, shared by
   * accounts): the given CIDs that no account has a row for, temporary or permanent. Delete bytes only
   * for those, after {@link delete}.
   */
  unreferenced?(cids: CID[]): Promise<CID[]>
  setTakedown(did: string, cid: CID, takedown: boolean): Promise<void>
  /**
   * Optional, **atomic per blob**: lease the account's blobs for a write about to reference them, by
   * setting their `createdAt` to now. Garbage collection ({@link collectGarbage}) only takes blobs whose
   * `createdAt` is older than its grace period and re-checks that in the delete itself, so a claimed
   * blob survives until the write has added its references. Returns the rows found (as updated); a CID
   * missing from the result was never uploaded or was just collected: refuse the write.
   */
  claim?(did: string, cids: CID[]): Promise<BlobRow[]>
  /**
   * Optional, for garbage collection: delete and return up to `limit` rows that are temporary (never
   * referenced) with `createdAt` before `tempBefore`, or permanent, referenced by no record, with
   * `createdAt` before `unreferencedBefore`; oldest first. Each row is deleted only if it still
   * qualifies at that moment (a concurrent {@link claim} wins). Bytes are the caller's: delete temporary
   * objects by `tempKey`, and permanent ones only for CIDs {@link unreferenced} returns.
   */
  collectGarbage?(opts: { tempBefore: Date; unreferencedBefore: Date; limit: number }): Promise<BlobRow[]>
  /**
   * Optional: whether a record of the account references `cid` (an imported repo's blob being
   * uploaded becomes permanent at once). Without it such blobs wait for the next record write.
   */
  hasRefs?(did: string, cid: CID): Promise<boolean>
}

/** A moderation takedown (see {@link TakedownStore}). */
export interface TakedownRow {
  subject: string
  /** The operator's reference (a ticket or report id). */
  ref: string
  createdAt: Date
}

/**
 * Takedowns by subject string: an account is its DID, a record its `at://` URI, a blob `<did> <cid>`.
 * Account takedowns also set the account's status (the PDS does both); this store keeps the `ref`.
 */
export interface TakedownStore {
  /** Record (or replace) the takedown of `subject`. */
  put(subject: string, ref: string): Promise<void>
  /** Lift a takedown (no-op when there is none). */
  remove(subject: string): Promise<void>
  get(subject: string): Promise<TakedownRow | null>
  /** The given subjects that are taken down (filtering a page of records in one query). */
  filter(subjects: string[]): Promise<string[]>
}

/**
 * Which user of the host app owns which account, for accounts the host creates through the PDS's
 * server-side API (`pds(...).host`). A user has at most one account and an account at most one user.
 */
export interface HostUserStore {
  /**
   * **Atomic.** Link `userId` to `did`; throws {@link UniqueConstraintError} with field `userId` or
   * `did` when either is already linked.
   */
  link(userId: string, did: string): Promise<void>
  getDid(userId: string): Promise<string | null>
  getUserId(did: string): Promise<string | null>
  /** Remove the link of an account (no-op when there is none). */
  unlink(did: string): Promise<void>
}

/** Fixed-window counters for rate limits. */
export interface RateLimitStore {
  /** **Atomic.** Count one hit of `key` in the current window; returns the count so far and the window end. */
  hit(key: string, windowMs: number): Promise<{ count: number; resetAt: Date }>
}

/** AppView indexer state: cursors and generic indexed rows keyed by record URI. */
export interface IndexerStore {
  /** A named consumer position (e.g. the firehose seq of a subscription), or null before the first. */
  getCursor(name: string): Promise<string | null>
  setCursor(name: string, cursor: string): Promise<void>
  /**
   * Upsert the row of `uri`. A re-indexed (updated) record keeps its first `indexedAt` (default: now)
   * so pages do not reshuffle; `cid` and `value` (JSON) are replaced.
   */
  putRow(row: {
    collection: string
    uri: string
    did: string
    rkey: string
    cid: string
    value: unknown
    indexedAt?: Date
  }): Promise<void>
  deleteRow(uri: string): Promise<void>
  /**
   * Rows of a collection (optionally of one DID), newest first: `indexedAt` descending, then `uri`
   * descending. `cursor` is `<indexedAt ms>::<uri>` of the last row of the previous page.
   */
  listRows(
    collection: string,
    opts: { limit: number; cursor?: string; did?: string },
  ): Promise<Array<{ uri: string; cid: string; did: string; value: unknown; indexedAt: Date }>>
}

/** Result of {@link BlobStore.putTemp}. */
export interface TempBlob {
  key: string
  size: number
  cid: CID
  /** Sniffed from magic bytes (images, video, PDF…); undefined when unknown. */
  mimeType?: string
}

/** Bytes of blobs, streamed in and out (local disk, S3-compatible stores). */
export interface BlobStore {
  /**
   * Stream bytes into a temporary object; returns its key, size and CID (raw codec, sha-256, computed
   * while streaming) and the MIME type sniffed from the first bytes when recognised. Throws
   * {@link BlobTooLargeError} past `maxSize`, keeping nothing.
   */
  putTemp(body: ReadableStream<Uint8Array>, opts?: { maxSize?: number }): Promise<TempBlob>
  /**
   * Move a temporary object to its permanent place under its CID (idempotent: a CID already permanent
   * just drops the temp copy). Throws {@link BlobNotFoundError} when neither exists.
   */
  makePermanent(key: string, cid: CID): Promise<void>
  /** Whether a temporary object exists (not yet made permanent or cleaned up). */
  hasTemp(key: string): Promise<boolean>
  /** Delete temporary objects created before `before` (abandoned uploads); returns how many. */
  cleanupTemp(before: Date): Promise<number>
  /** A permanent object (optionally a byte range, inclusive), or null. */
  get(
    cid: CID,
    range?: { start: number; end?: number },
  ): Promise<{ stream: ReadableStream<Uint8Array>; size: number } | null>
  deleteTemp(key: string): Promise<void>
  delete(cids: CID[]): Promise<void>
  /**
   * Optional, for garbage collection (bytes are kept once per CID, shared by accounts): move the
   * permanent objects of `cids` aside (no longer served), then run `check`, which returns the CIDs no
   * account holds; delete those and put the others back. An upload of the same bytes that lands while
   * the collector works is then never lost: its account's row is in place before it relies on the
   * bytes, so either `check` sees the row, or the upload finds no permanent object and stores its own.
   * Objects an interrupted earlier call left aside are settled the same way first. Returns the CIDs
   * deleted. Without it, the collector calls {@link delete}.
   */
  deleteUnreferenced?(cids: CID[], check: (cids: CID[]) => Promise<CID[]>): Promise<CID[]>
}

/** Everything the services persist, behind one object. */
export interface StorageAdapter {
  /** Adapter name, e.g. `prisma:sqlite` or `memory`. */
  readonly id: string
  readonly repo: RepoStore
  readonly accounts: AccountStore
  readonly sequencer: SequencerStore
  readonly blobs: BlobMetaStore
  readonly rateLimits: RateLimitStore
  readonly oauth?: OAuthStore
  /**
   * The OAuth client's pending logins and sessions (AppViews signing users in); its refresh lease and
   * token swap are atomic across processes, so no lock server is needed.
   */
  readonly oauthClient?: OAuthClientStore
  readonly plc?: PlcStore
  readonly identityCache?: IdentityCache
  readonly indexer?: IndexerStore
  readonly inviteCodes?: InviteCodeStore
  /** Record and blob takedowns with their refs (admin API); without it only accounts can be taken down. */
  readonly takedowns?: TakedownStore
  /** Host-app users linked to their accounts (the PDS's server-side host API). */
  readonly hostUsers?: HostUserStore
  readonly communityHandles?: CommunityHandleStore
  /**
   * Verify at start-up that the database is reachable and migrated; throws {@link StorageUnavailableError}
   * or {@link StorageNotMigratedError} naming the problem and the command that fixes it.
   */
  check(): Promise<void>
  close(): Promise<void>
}
