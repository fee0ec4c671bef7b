/** com.atproto.server.*: accounts, sessions and app passwords. */
import { ids } from '../../lexicons/nsid.js'
import { UniqueConstraintError } from '../../storage/errors.js'
import type { XrpcServer } from '../../xrpc/server.js'
import { AuthRequiredError, InvalidRequestError } from '../../xrpc/xrpc-error.js'
import {
  authenticate,
  createAccount,
  createSession,
  generateAppPassword,
  refreshSession,
} from '../accounts.js'
import type { PdsAuth, PdsVerifiers } from '../auth.js'
import type { PdsContext } from '../context.js'
import { assertDidDocForThisPds, isHostedDidWeb, verifyDidControl } from '../did-web.js'
import { formatAccountEvent } from '../events.js'
import { hashPassword } from '../password.js'
import { byAddress, rateLimiter } from '../rate-limit.js'
import { toSeqInsert } from '../repo-writer.js'
import { bodyOf, json } from './util.js'

function str(body: Record<string, unknown>, key: string, required: true): string
function str(body: Record<string, unknown>, key: string, required?: false): string | undefined
function str(body: Record<string, unknown>, key: string, required = false): string | undefined {
  const v = body[key]
  if (v === undefined || v === null) {
    if (required) throw new InvalidRequestError(`Input must have the property "${key}"`)
    return undefined
  }
  if (typeof v !== 'string') throw new InvalidRequestError(`Input/${key} must be a string`)
  return v
}

/** Register com.atproto.server.* on the XRPC server. */
export function registerServerMethods(xrpc: XrpcServer, ctx: PdsContext, auth: PdsVerifiers): void {
  const describe = () =>
    json({
      did: ctx.serviceDid,
      availableUserDomains: ctx.handles.domains,
      inviteCodeRequired: ctx.options.inviteRequired ?? false,
      phoneVerificationRequired: false,
      links: {},
    })
  xrpc.query(ids.ComAtprotoServerDescribeServer, describe)

  xrpc.procedure(ids.ComAtprotoServerCreateAccount, {
    input: { encoding: 'application/json' },
    async handler(hc) {
      const body = bodyOf(hc.input)
      if (ctx.options.inviteRequired && !str(body, 'inviteCode')) {
        throw new InvalidRequestError('No invite code provided', 'InvalidInviteCode')
      }
      const handle = str(body, 'handle', true)
      const did = str(body, 'did')
      // An existing DID needs proof of control, unless it is a did:web this app hosts (createAccount
      // then checks the account may take it).
      if (did !== undefined && !isHostedDidWeb(ctx, did)) {
        await verifyDidControl(ctx, hc, did)
      }
      const password = str(body, 'password')
      const account = await createAccount(ctx, {
        handle,
        email: str(body, 'email'),
        password,
        recoveryKey: str(body, 'recoveryKey'),
        did,
      })
      const session = await createSession(ctx, account)
      return json({ ...session, didDoc: undefined })
    },
  })

  xrpc.procedure(ids.ComAtprotoServerCreateSession, {
    input: { encoding: 'application/json' },
    rateLimit: rateLimiter(ctx, 'createSession', byAddress),
    async handler({ input }) {
      const body = bodyOf(input)
      const { account, appPassword } = await authenticate(
        ctx,
        str(body, 'identifier', true),
        str(body, 'password', true),
      )
      if (account.status === 'takendown')
        throw new AuthRequiredError('Account has been taken down', 'AccountTakedown')
      const session = await createSession(ctx, account, appPassword)
      return json({
        ...session,
        email: account.email ?? undefined,
        emailConfirmed: account.emailConfirmedAt !== null,
        active: account.status === 'active',
        status: account.status === 'active' ? undefined : account.status,
      })
    },
  })

  const sessionInfo = async (a: PdsAuth) => {
    const account = await ctx.storage.accounts.getByDid(a.did)
    if (!account) throw new AuthRequiredError('Account not found', 'InvalidToken')
    return {
      did: account.did,
      handle: account.handle,
      email: account.email ?? undefined,
      emailConfirmed: account.emailConfirmedAt !== null,
      active: account.status === 'active',
      status: account.status === 'active' ? undefined : account.status,
    }
  }
  xrpc.query(ids.ComAtprotoServerGetSession, {
    auth: auth.access,
    handler: async ({ auth: a }) => json(await sessionInfo(a)),
  })

  xrpc.procedure(ids.ComAtprotoServerRefreshSession, {
    auth: auth.refresh,
    async handler({ auth: a }) {
      const session = await refreshSession(ctx, a.refreshId ?? '')
      const info = await sessionInfo(a)
      return json({ ...info, ...session })
    },
  })

  xrpc.procedure(ids.ComAtprotoServerDeleteSession, {
    auth: auth.refresh,
    async handler({ auth: a }) {
      await ctx.storage.accounts.deleteRefreshToken(a.refreshId ?? '')
    },
  })

  xrpc.procedure(ids.ComAtprotoServerCreateAppPassword, {
    input: { encoding: 'application/json' },
    auth: auth.accessPrivileged,
    async handler({ auth: a, input }) {
      const body = bodyOf(input)
      const name = str(body, 'name', true).trim()
      if (!name) throw new InvalidRequestError('App password name is required')
      const privileged = body.privileged === true
      const password = generateAppPassword()
      const createdAt = new Date()
      try {
        await ctx.storage.accounts.createAppPassword({
          did: a.did,
          name,
          passwordHash: await hashPassword(password),
          privileged,
          createdAt,
        })
      } catch (err) {
        if (err instanceof UniqueConstraintError)
          throw new InvalidRequestError('App password name already exists', 'DuplicateName')
        throw err
      }
      return json({ name, password, createdAt: createdAt.toISOString(), privileged })
    },
  })

  xrpc.query(ids.ComAtprotoServerListAppPasswords, {
    auth: auth.accessPrivileged,
    async handler({ auth: a }) {
      const passwords = await ctx.storage.accounts.listAppPasswords(a.did)
      return json({
        passwords: passwords.map((p) => ({
          name: p.name,
          createdAt: p.createdAt.toISOString(),
          privileged: p.privileged,
        })),
      })
    },
  })

  xrpc.procedure(ids.ComAtprotoServerRevokeAppPassword, {
    input: { encoding: 'application/json' },
    auth: auth.accessPrivileged,
    async handler({ auth: a, input }) {
      const name = str(bodyOf(input), 'name', true)
      await ctx.storage.accounts.deleteAppPassword(a.did, name)
      await ctx.storage.accounts.deleteRefreshTokensForDid(a.did, name)
    },
  })

  xrpc.query(ids.ComAtprotoServerCheckAccountStatus, {
    auth: auth.access,
    async handler({ auth: a }) {
      const account = await ctx.storage.accounts.getByDid(a.did)
      const [root, recordCount] = await ctx.storage.repo.read(
        a.did,
        async (r) => [await r.getRoot(), await r.countRecords()] as const,
      )
      const blobs = await ctx.storage.blobs.list(a.did, { limit: 100_000 })
      return json({
        activated: account?.status === 'active',
        validDid: true,
        repoCommit: root?.cid.toString() ?? '',
        repoRev: root?.rev ?? '',
        repoBlocks: 0,
        indexedRecords: recordCount,
        privateStateValues: 0,
        expectedBlobs: blobs.length,
        importedBlobs: blobs.length,
      })
    },
  })

  const setActive =
    (active: boolean) =>
    async ({ auth: a }: { auth: PdsAuth }): Promise<undefined> => {
      const account = await ctx.storage.accounts.getByDid(a.did)
      if (!account) throw new InvalidRequestError('Account not found', 'AccountNotFound')
      if (account.status === 'takendown')
        throw new InvalidRequestError('Account has been taken down', 'AccountTakedown')
      if ((account.status === 'active') === active) return undefined
      if (active) await assertDidDocForThisPds(ctx, account)
      await ctx.storage.accounts.updateStatus(a.did, active ? 'active' : 'deactivated')
      await ctx.storage.sequencer.append([
        toSeqInsert(formatAccountEvent(a.did, active, active ? undefined : 'deactivated')),
      ])
      ctx.sequencer.wake()
      return undefined
    }
  xrpc.procedure(ids.ComAtprotoServerActivateAccount, {
    auth: auth.accessPrivileged,
    handler: setActive(true),
  })
  xrpc.procedure(ids.ComAtprotoServerDeactivateAccount, {
    auth: auth.accessPrivileged,
    input: { encoding: 'application/json' },
    handler: setActive(false),
  })
}
