/**
 * Account operations shared by the admin API and the host app's server-side API: status changes with
 * their `#account` events, handle/email/password updates, and deletion. Each checks its input and
 * throws a typed XRPC error before changing anything.
 */
import { createAtprotoUpdateOp } from '../plc/operations.js'
import { UniqueConstraintError } from '../storage/errors.js'
import type { AccountRow } from '../storage/types.js'
import { InvalidRequestError } from '../xrpc/xrpc-error.js'
import type { PdsContext } from './context.js'
import { formatAccountEvent, formatIdentityEvent, type SeqEvent } from './events.js'
import { hashPassword } from './password.js'
import { toSeqInsert } from './repo-writer.js'

/** The account of `did`, or 400 `AccountNotFound` (deleted accounts count as gone). */
export async function requireAccount(ctx: PdsContext, did: string): Promise<AccountRow> {
  const account = await ctx.storage.accounts.getByDid(did)
  if (!account || account.status === 'deleted') {
    throw new InvalidRequestError(`Account not found: ${did}`, 'AccountNotFound')
  }
  return account
}

async function emit(ctx: PdsContext, events: SeqEvent[]): Promise<void> {
  await ctx.storage.sequencer.append(events.map(toSeqInsert))
  ctx.sequencer.wake()
}

/**
 * Activate or deactivate an account, with its `#account` event. A taken-down account stays taken
 * down (400 `AccountTakedown`); no change, no event.
 */
export async function setAccountActive(ctx: PdsContext, did: string, active: boolean): Promise<void> {
  const account = await requireAccount(ctx, did)
  if (account.status === 'takendown')
    throw new InvalidRequestError('Account has been taken down', 'AccountTakedown')
  if ((account.status === 'active') === active) return
  await ctx.storage.accounts.updateStatus(did, active ? 'active' : 'deactivated')
  await emit(ctx, [formatAccountEvent(did, active, active ? undefined : 'deactivated')])
}

/**
 * Apply or lift the takedown of an account: its status, an `#account` event (`active: false,
 * status: 'takendown'`, then `active: true` on reversal), and its sessions end when applied.
 */
export async function setAccountTakedown(
  ctx: PdsContext,
  did: string,
  applied: boolean,
  ref?: string,
): Promise<void> {
  const account = await requireAccount(ctx, did)
  if (applied) {
    await ctx.storage.takedowns?.put(did, ref ?? 'takedown')
    if (account.status === 'takendown') return
    await ctx.storage.accounts.updateStatus(did, 'takendown')
    await ctx.storage.accounts.deleteRefreshTokensForDid(did)
    await emit(ctx, [formatAccountEvent(did, false, 'takendown')])
  } else {
    await ctx.storage.takedowns?.remove(did)
    if (account.status !== 'takendown') return
    await ctx.storage.accounts.updateStatus(did, 'active')
    await emit(ctx, [formatAccountEvent(did, true)])
  }
}

/**
 * Change an account's handle (checked by the handle policy, unique), its DID document (did:plc) and
 * emit `#identity`. The account row is put back if the directory refuses the update.
 */
export async function updateAccountHandle(ctx: PdsContext, did: string, input: string): Promise<string> {
  const { handle, kind } = ctx.handles.check(input)
  if (kind === 'external') {
    throw new InvalidRequestError('External handles are not supported yet', 'UnsupportedDomain')
  }
  const account = await requireAccount(ctx, did)
  if (account.handle !== handle) {
    try {
      await ctx.storage.accounts.updateHandle(did, handle)
    } catch (err) {
      if (err instanceof UniqueConstraintError)
        throw new InvalidRequestError(`Handle already taken: ${handle}`, 'HandleNotAvailable')
      throw err
    }
    if (did.startsWith('did:plc:')) {
      try {
        const last = await ctx.plc.getLastOp(did)
        await ctx.plc.sendOperation(
          did,
          await createAtprotoUpdateOp(last, ctx.options.plcRotationKey, { handle }),
        )
      } catch (err) {
        await ctx.storage.accounts.updateHandle(did, account.handle)
        throw err
      }
    }
  }
  await emit(ctx, [formatIdentityEvent(did, handle)])
  return handle
}

/** Set (or clear, with null) an account's email; 400 when another account has it. */
export async function updateAccountEmail(ctx: PdsContext, did: string, email: string | null): Promise<void> {
  await requireAccount(ctx, did)
  const normalized = email?.trim().toLowerCase() ?? null
  if (normalized !== null && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(normalized)) {
    throw new InvalidRequestError('Invalid email address', 'InvalidEmail')
  }
  if (normalized) {
    const holder = await ctx.storage.accounts.getByEmail(normalized)
    if (holder && holder.did !== did) throw new InvalidRequestError('Email already taken', 'EmailTaken')
  }
  try {
    await ctx.storage.accounts.updateEmail(did, normalized)
  } catch (err) {
    if (err instanceof UniqueConstraintError)
      throw new InvalidRequestError('Email already taken', 'EmailTaken')
    throw err
  }
}

/** Set an account's password (at least 8 characters); every session of the account ends. */
export async function updateAccountPassword(ctx: PdsContext, did: string, password: string): Promise<void> {
  await requireAccount(ctx, did)
  if (password.length < 8)
    throw new InvalidRequestError('Password must be at least 8 characters', 'InvalidPassword')
  await ctx.storage.accounts.updatePassword(did, await hashPassword(password))
  await ctx.storage.accounts.deleteRefreshTokensForDid(did)
}

/**
 * Delete an account: its repo, blob metadata, host-user link and row, then the `#account` event
 * (`status: 'deleted'`). Blob bytes shared by CID are left to garbage collection.
 */
export async function deleteAccount(ctx: PdsContext, did: string): Promise<void> {
  await requireAccount(ctx, did)
  await ctx.storage.repo.destroy(did)
  const cids = await ctx.storage.blobs.list(did, { limit: 1_000_000 })
  if (cids.length > 0) await ctx.storage.blobs.delete(did, cids)
  await ctx.storage.accounts.deleteRefreshTokensForDid(did)
  await ctx.storage.hostUsers?.unlink(did)
  await ctx.storage.takedowns?.remove(did)
  await ctx.storage.accounts.delete(did)
  await emit(ctx, [formatAccountEvent(did, false, 'deleted')])
}
