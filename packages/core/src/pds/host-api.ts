/**
 * The PDS's server-side API for the host app (`pds(...).host`): give the app's existing users atproto
 * accounts, find them again, write records on their behalf and manage their status, all in-process (no
 * HTTP round trip, no session token). Validation, atomicity and firehose events are those of the XRPC
 * endpoints. Each host user is linked to at most one account through the storage's host-user store.
 */
import { encodeCbor } from '../data/cbor.js'
import { type CID, cidForBytes } from '../data/cid.js'
import { UniqueConstraintError } from '../storage/errors.js'
import type { AccountRow, AccountStatusValue, HostUserStore } from '../storage/types.js'
import { InvalidRequestError } from '../xrpc/xrpc-error.js'
import { deleteAccount, requireAccount, setAccountActive } from './account-ops.js'
import { createAccount } from './accounts.js'
import { commitWrites } from './commit-writes.js'
import type { PdsContext } from './context.js'
import { ensureCollection, ensureRkey, optionalCid, prepareCreate, prepareRecord } from './records.js'
import type { PreparedWrite } from './repo-writer.js'

/** An account as the host app sees it. */
export interface HostAccount {
  did: string
  handle: string
  email: string | null
  /** The host user the account belongs to, when it was created through {@link PdsHostApi.createAccount}. */
  userId: string | null
  status: AccountStatusValue
  active: boolean
  /** Whether the member can sign in with a password (accounts created without one sign in through the host). */
  hasPassword: boolean
  createdAt: Date
}

/** Input of {@link PdsHostApi.createAccount}. */
export interface HostCreateAccountInput {
  /** The host app's own id of the user (its primary key, as a string). */
  userId: string
  /** Full handle under one of the PDS's handle domains, e.g. `alice.forum.example`. */
  handle: string
  email?: string
  /** Omit for members who sign in through the host app only. */
  password?: string
}

/** A record write on a member's behalf. */
export type HostWrite =
  | { action: 'create'; collection: string; rkey?: string; record: Record<string, unknown> }
  | {
      action: 'update'
      collection: string
      rkey: string
      record: Record<string, unknown>
      /** The CID the record must be at (null: must not exist), as putRecord's `swapRecord`. */
      swapRecord?: string | null
    }
  | { action: 'delete'; collection: string; rkey: string; swapRecord?: string }

/** Outcome of {@link PdsHostApi.writeRecords}: the commit, and per write its URI and record CID. */
export interface HostWriteResult {
  commit: { cid: string; rev: string }
  results: Array<{ uri: string; cid?: string }>
}

/** Which account to look up: by DID, by handle, or by the host's user id. */
export type HostAccountRef = { did: string } | { handle: string } | { userId: string }

/** The host app's server-side API of a PDS. */
export interface PdsHostApi {
  /**
   * Create the account of one of the host's existing users: a did:plc, an empty repo and the firehose
   * events, linked to `userId`. Throws 400 `AccountExists` when the user already has an account, and
   * the createAccount errors (`HandleNotAvailable`, `InvalidHandle`, …) otherwise.
   */
  createAccount(input: HostCreateAccountInput): Promise<HostAccount>
  /** The account by DID, handle or host user id; null when there is none (or it was deleted). */
  getAccount(ref: HostAccountRef): Promise<HostAccount | null>
  /**
   * Apply writes to a member's repo as one commit (all or nothing), validated like XRPC writes (`$type`,
   * known lexicons unless `validate: false`, rkeys, blobs uploaded), with its `#commit` event. Refused
   * with 400 `AccountDeactivated` / `AccountTakedown` for inactive accounts; up to 200 writes.
   */
  writeRecords(
    did: string,
    writes: HostWrite[],
    options?: { validate?: boolean; swapCommit?: string },
  ): Promise<HostWriteResult>
  /** Deactivate an account (repo hidden, writes refused, `#account` event); no-op when inactive. */
  deactivateAccount(did: string): Promise<void>
  /** Reactivate a deactivated account. */
  activateAccount(did: string): Promise<void>
  /** Delete an account for good: repo, blobs, the host-user link, then `#account` `deleted`. */
  deleteAccount(did: string): Promise<void>
}

function hostUsers(ctx: PdsContext): HostUserStore {
  if (!ctx.storage.hostUsers) {
    throw new InvalidRequestError(
      `storage adapter ${ctx.storage.id} has no host-user store (memoryAdapter and prismaAdapter have one)`,
    )
  }
  return ctx.storage.hostUsers
}

async function view(ctx: PdsContext, account: AccountRow, userId?: string | null): Promise<HostAccount> {
  return {
    did: account.did,
    handle: account.handle,
    email: account.email,
    userId: userId !== undefined ? userId : ((await ctx.storage.hostUsers?.getUserId(account.did)) ?? null),
    status: account.status,
    active: account.status === 'active',
    hasPassword: account.passwordHash !== null,
    createdAt: account.createdAt,
  }
}

function prepare(ctx: PdsContext, w: HostWrite, i: number, validate: boolean | undefined): PreparedWrite {
  if (w === null || typeof w !== 'object') throw new InvalidRequestError(`writes/${i} must be an object`)
  if (w.action === 'create') {
    return prepareCreate(ctx, { collection: w.collection, rkey: w.rkey, record: w.record, validate })
  }
  const collection = ensureCollection(w.collection)
  const rkey = ensureRkey(w.rkey)
  if (w.action === 'update') {
    const { record, blobs } = prepareRecord(ctx, collection, w.record, validate)
    const swapCid = w.swapRecord === null ? null : optionalCid(w.swapRecord, `writes/${i}/swapRecord`)
    return { action: 'update', collection, rkey, record, blobs, swapCid }
  }
  if (w.action === 'delete') {
    return {
      action: 'delete',
      collection,
      rkey,
      swapCid: optionalCid(w.swapRecord, `writes/${i}/swapRecord`),
    }
  }
  throw new InvalidRequestError(`writes/${i} has an unknown action`)
}

/** Build the host API over a PDS context (resolved once the PDS is set up). */
export function createHostApi(context: () => Promise<PdsContext>): PdsHostApi {
  return {
    async createAccount(input) {
      const ctx = await context()
      const users = hostUsers(ctx)
      if (typeof input?.userId !== 'string' || input.userId === '')
        throw new InvalidRequestError('userId must be a non-empty string')
      if (await users.getDid(input.userId)) {
        throw new InvalidRequestError(`User ${input.userId} already has an account`, 'AccountExists')
      }
      const account = await createAccount(ctx, {
        handle: input.handle,
        email: input.email,
        password: input.password,
      })
      try {
        await users.link(input.userId, account.did)
      } catch (err) {
        // Another request linked this user first: the account just made must not outlive the race.
        await deleteAccount(ctx, account.did).catch(() => {})
        if (err instanceof UniqueConstraintError)
          throw new InvalidRequestError(`User ${input.userId} already has an account`, 'AccountExists')
        throw err
      }
      return view(ctx, account, input.userId)
    },

    async getAccount(ref) {
      const ctx = await context()
      let account: AccountRow | null = null
      if ('did' in ref) account = await ctx.storage.accounts.getByDid(ref.did)
      else if ('handle' in ref) account = await ctx.storage.accounts.getByHandle(ref.handle.toLowerCase())
      else if ('userId' in ref) {
        const did = await hostUsers(ctx).getDid(ref.userId)
        account = did ? await ctx.storage.accounts.getByDid(did) : null
        if (account && account.status !== 'deleted') return view(ctx, account, ref.userId)
      } else throw new InvalidRequestError('Look accounts up by did, handle or userId')
      return account && account.status !== 'deleted' ? view(ctx, account) : null
    },

    async writeRecords(did, writes, options = {}) {
      const ctx = await context()
      const account = await requireAccount(ctx, did)
      if (account.status === 'takendown')
        throw new InvalidRequestError('Account has been taken down', 'AccountTakedown')
      if (account.status === 'deactivated')
        throw new InvalidRequestError('Account is deactivated', 'AccountDeactivated')
      if (!Array.isArray(writes) || writes.length === 0) throw new InvalidRequestError('No writes')
      if (writes.length > 200) throw new InvalidRequestError('Too many writes. Max: 200')
      const prepared = writes.map((w, i) => prepare(ctx, w, i, options.validate))
      const data = await commitWrites(ctx, did, prepared, optionalCid(options.swapCommit, 'swapCommit'))
      return {
        commit: { cid: data.cid.toString(), rev: data.rev },
        results: prepared.map((w) => {
          const uri = `at://${did}/${w.collection}/${w.rkey}`
          if (w.action === 'delete') return { uri }
          const op = data.ops.find((o) => o.path === `${w.collection}/${w.rkey}`)
          // A write that changed nothing has no op: its CID is the record's own.
          const cid: CID = op?.cid ?? cidForBytes(encodeCbor(w.record))
          return { uri, cid: cid.toString() }
        }),
      }
    },

    async deactivateAccount(did) {
      await setAccountActive(await context(), did, false)
    },

    async activateAccount(did) {
      await setAccountActive(await context(), did, true)
    },

    async deleteAccount(did) {
      await deleteAccount(await context(), did)
    },
  }
}
