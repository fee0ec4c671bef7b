/** Account lifecycle of the PDS: create (did:plc through the PLC directory), sign in, sessions. */
import { randomBytes } from 'node:crypto'
import { createGenesisOp } from '../plc/operations.js'
import type { PlcOperation } from '../plc/types.js'
import { UniqueConstraintError } from '../storage/errors.js'
import type { AccountRow } from '../storage/types.js'
import { AuthRequiredError, InvalidRequestError } from '../xrpc/xrpc-error.js'
import { assertNotCommunityHandleOfOther, handleHostCache } from './community-handles.js'
import type { PdsContext } from './context.js'
import {
  assertBringableDid,
  assertHandleResolvesTo,
  isHostedDidWeb,
  mayCreateHostedDidWeb,
} from './did-web.js'
import { formatAccountEvent, formatIdentityEvent } from './events.js'
import { hashPassword, verifyPassword } from './password.js'
import { createRepo, toSeqInsert } from './repo-writer.js'
import { createSessionTokens, SessionScope } from './session-tokens.js'
import { AccountSigningKey } from './signing-key.js'

/** Input of {@link createAccount}. */
export interface CreateAccountInput {
  handle: string
  email?: string
  /** Omit for members who sign in through the host app only (managed accounts). */
  password?: string
  /** An extra PLC rotation key the user controls (highest priority). */
  recoveryKey?: string
  /**
   * A DID not minted here. A did:web the app hosts (`hostedDidWeb`) starts active; any other DID is the
   * user's own, whose control the caller verified (verifyDidControl), and starts deactivated until its
   * document names this PDS and the account's new signing key (activateAccount checks).
   */
  did?: string
}

/** The tokens and identity returned by createAccount / createSession. */
export interface SessionOutput {
  did: string
  handle: string
  accessJwt: string
  refreshJwt: string
}

async function ensureHandleFree(ctx: PdsContext, handle: string, did?: string): Promise<void> {
  if (await ctx.storage.accounts.getByHandle(handle)) {
    throw new InvalidRequestError(`Handle already taken: ${handle}`, 'HandleNotAvailable')
  }
  await assertNotCommunityHandleOfOther(ctx, handle, did)
}

/**
 * Create an account: signing key, did:plc genesis operation submitted to the directory, account row,
 * empty repo, and the `#identity`, `#account` and `#sync` events.
 */
export async function createAccount(ctx: PdsContext, input: CreateAccountInput): Promise<AccountRow> {
  const { handle, kind } = ctx.handles.check(input.handle)
  const hosted = input.did !== undefined && mayCreateHostedDidWeb(ctx, input.did, handle)
  if (input.did !== undefined && !hosted) {
    if (isHostedDidWeb(ctx, input.did)) {
      throw new InvalidRequestError(`A did:web of this server must be did:web:<handle>`, 'IncompatibleDidDoc')
    }
    assertBringableDid(input.did)
  }
  if (kind === 'external') {
    if (!input.did || hosted) {
      throw new InvalidRequestError(
        'Handles outside this server must be set after sign-up',
        'UnsupportedDomain',
      )
    }
    await assertHandleResolvesTo(ctx, handle, input.did) // a brought-in DID may keep its own handle
  }
  await ensureHandleFree(ctx, handle, input.did)
  const email = input.email?.toLowerCase()
  if (email && (await ctx.storage.accounts.getByEmail(email))) {
    throw new InvalidRequestError('Email already taken', 'InvalidRequest')
  }
  if (input.password !== undefined && input.password.length < 8) {
    throw new InvalidRequestError('Password must be at least 8 characters', 'InvalidPassword')
  }
  const signingKey = AccountSigningKey.generate()
  let did = input.did
  let genesis: PlcOperation | undefined
  if (did === undefined) {
    const rotationKeys = [ctx.options.plcRotationKey.did()]
    if (input.recoveryKey) rotationKeys.unshift(input.recoveryKey)
    const created = await createGenesisOp({
      signingKey: signingKey.did(),
      handle,
      pds: ctx.publicUrl,
      rotationKeys,
      signer: ctx.options.plcRotationKey,
    })
    did = created.did
    genesis = created.op
  }
  const active = input.did === undefined || hosted
  const passwordHash = input.password === undefined ? null : await hashPassword(input.password)
  try {
    await ctx.storage.accounts.create({
      did,
      handle,
      email: email ?? null,
      passwordHash,
      signingKey: signingKey.privateKey,
      status: active ? 'active' : 'deactivated',
    })
  } catch (err) {
    if (err instanceof UniqueConstraintError) {
      throw new InvalidRequestError(
        `${err.field} already taken`,
        err.field === 'handle' ? 'HandleNotAvailable' : 'InvalidRequest',
      )
    }
    throw err
  }
  try {
    if (genesis) await ctx.plc.sendOperation(did, genesis)
    await ctx.storage.sequencer.append([
      toSeqInsert(formatIdentityEvent(did, handle)),
      toSeqInsert(formatAccountEvent(did, active, active ? undefined : 'deactivated')),
    ])
    await createRepo(ctx, did, signingKey)
  } catch (err) {
    // Leave nothing half-created behind: the account row goes with the failed setup.
    await ctx.storage.repo.destroy(did).catch(() => {})
    await ctx.storage.accounts.delete(did).catch(() => {})
    throw err
  }
  handleHostCache(ctx).invalidate(handle) // a "no such handle" answer may be cached
  return (await ctx.storage.accounts.getByDid(did))!
}

/** Find an account by handle, email or DID (sign-in identifier). */
export async function findAccount(ctx: PdsContext, identifier: string): Promise<AccountRow | null> {
  const id = identifier.trim().toLowerCase().replace(/^@/, '')
  if (id.startsWith('did:')) return ctx.storage.accounts.getByDid(identifier.trim())
  if (id.includes('@')) return ctx.storage.accounts.getByEmail(id)
  return ctx.storage.accounts.getByHandle(id)
}

/**
 * Check a sign-in: the account password, or one of its app passwords. Failures are indistinguishable
 * (same error, a hash computed either way) so accounts cannot be enumerated.
 */
export async function authenticate(
  ctx: PdsContext,
  identifier: string,
  password: string,
): Promise<{ account: AccountRow; appPassword: { name: string; privileged: boolean } | null }> {
  const account = await findAccount(ctx, identifier)
  const fail = () => new AuthRequiredError('Invalid identifier or password', 'AuthenticationRequired')
  if (!account || account.status === 'deleted') {
    await hashPassword(password) // equalize timing with a real check
    throw fail()
  }
  if (account.passwordHash && (await verifyPassword(password, account.passwordHash))) {
    return { account, appPassword: null }
  }
  for (const app of await ctx.storage.accounts.listAppPasswords(account.did)) {
    if (await verifyPassword(password, app.passwordHash)) {
      return { account, appPassword: { name: app.name, privileged: app.privileged } }
    }
  }
  throw fail()
}

/** Issue and store a new session (access + refresh tokens). */
export async function createSession(
  ctx: PdsContext,
  account: Pick<AccountRow, 'did' | 'handle'>,
  appPassword: { name: string; privileged: boolean } | null = null,
): Promise<SessionOutput> {
  const scope = appPassword
    ? appPassword.privileged
      ? SessionScope.AppPassPrivileged
      : SessionScope.AppPass
    : SessionScope.Access
  const tokens = await createSessionTokens({
    secret: ctx.jwtSecret,
    serviceDid: ctx.serviceDid,
    did: account.did,
    scope,
  })
  await ctx.storage.accounts.createRefreshToken({
    id: tokens.refreshId,
    did: account.did,
    appPasswordName: appPassword?.name ?? null,
    expiresAt: new Date(tokens.refreshExpiresAt),
    nextId: null,
  })
  return {
    did: account.did,
    handle: account.handle,
    accessJwt: tokens.accessJwt,
    refreshJwt: tokens.refreshJwt,
  }
}

/**
 * Rotate a refresh token: the old one dies (reuse is refused), a new pair is issued. A dead token is a
 * 400 `ExpiredToken`, as the reference answers (clients take it as "session over").
 */
export async function refreshSession(ctx: PdsContext, refreshId: string): Promise<SessionOutput> {
  const row = await ctx.storage.accounts.getRefreshToken(refreshId)
  if (!row || row.expiresAt.getTime() < Date.now())
    throw new InvalidRequestError('Token has been revoked', 'ExpiredToken')
  const account = await ctx.storage.accounts.getByDid(row.did)
  if (!account) throw new AuthRequiredError('Account not found', 'InvalidToken')
  let appPassword: { name: string; privileged: boolean } | null = null
  if (row.appPasswordName) {
    const app = (await ctx.storage.accounts.listAppPasswords(row.did)).find(
      (a) => a.name === row.appPasswordName,
    )
    if (!app) throw new InvalidRequestError('Token has been revoked', 'ExpiredToken')
    appPassword = { name: app.name, privileged: app.privileged }
  }
  const next = await createSession(ctx, account, appPassword)
  const nextId = (
    JSON.parse(Buffer.from(next.refreshJwt.split('.')[1]!, 'base64url').toString()) as { jti: string }
  ).jti
  if (!(await ctx.storage.accounts.rotateRefreshToken(refreshId, nextId))) {
    await ctx.storage.accounts.deleteRefreshToken(nextId)
    throw new InvalidRequestError('Token has been revoked', 'ExpiredToken')
  }
  return next
}

/** Random app password in the reference's `xxxx-xxxx-xxxx-xxxx` shape. */
export function generateAppPassword(): string {
  const chars = 'abcdefghijklmnopqrstuvwxyz234567'
  const bytes = randomBytes(16)
  const out = Array.from(bytes, (b) => chars[b % 32]).join('')
  return out.match(/.{4}/g)!.join('-')
}
