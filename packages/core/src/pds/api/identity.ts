/**
 * com.atproto.identity.*: handles, and the PLC endpoints that let a user sign and submit operations for
 * their did:plc (credentials recommended by this PDS, email-confirmed signing with its rotation key).
 */

import { randomBytes } from 'node:crypto'
import { ids } from '../../lexicons/nsid.js'
import { assertScope, type ScopePermissions } from '../../oauth/scopes.js'
import { PlcClientError, PlcValidationError } from '../../plc/errors.js'
import { createAtprotoUpdateOp, createUpdateOp, isPlcDid } from '../../plc/operations.js'
import type { PlcOperation } from '../../plc/types.js'
import { assertValidIncomingOp } from '../../plc/validate.js'
import { UniqueConstraintError } from '../../storage/errors.js'
import type { XrpcServer } from '../../xrpc/server.js'
import { InvalidRequestError } from '../../xrpc/xrpc-error.js'
import type { PdsVerifiers } from '../auth.js'
import { assertNotCommunityHandleOfOther, handleHostCache, lookupHandleHost } from '../community-handles.js'
import type { PdsContext } from '../context.js'
import { assertHandleResolvesTo } from '../did-web.js'
import { formatIdentityEvent } from '../events.js'
import { paramsOf } from '../lexicon-params.js'
import { toSeqInsert } from '../repo-writer.js'
import { AccountSigningKey } from '../signing-key.js'

const PLC_TOKEN_PURPOSE = 'plc_operation'
const TOKEN_TTL_MS = 15 * 60_000

/** An email token in the reference's `xxxxx-xxxxx` shape. */
function emailToken(): string {
  const s = randomBytes(8).toString('base64url').replace(/[-_]/g, 'x').toUpperCase().slice(0, 10)
  return `${s.slice(0, 5)}-${s.slice(5)}`
}

/** The credentials this PDS wants in an account's DID document. */
function recommendedCredentials(ctx: PdsContext, account: { handle: string; signingKey: Uint8Array }) {
  return {
    rotationKeys: [ctx.options.plcRotationKey.did()],
    alsoKnownAs: [`at://${account.handle}`],
    verificationMethods: { atproto: AccountSigningKey.fromBytes(account.signingKey).did() },
    services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: ctx.publicUrl } },
  }
}

const plcError = (err: unknown): never => {
  if (err instanceof PlcClientError && err.status >= 400 && err.status < 500) {
    throw new InvalidRequestError(`PLC directory refused the operation: ${err.message}`, 'InvalidRequest')
  }
  throw err
}

/** Register com.atproto.identity.* on the XRPC server. */
export function registerIdentityMethods(xrpc: XrpcServer, ctx: PdsContext, auth: PdsVerifiers): void {
  const accountOf = async (did: string) => {
    const account = await ctx.storage.accounts.getByDid(did)
    if (!account) throw new InvalidRequestError('Account not found', 'AccountNotFound')
    return account
  }
  const identityScope = (a: { kind: string; scopes?: unknown }) => {
    if (a.kind === 'oauth') assertScope(a.scopes as ScopePermissions, { type: 'identity', attr: '*' })
  }

  xrpc.query(ids.ComAtprotoIdentityGetRecommendedDidCredentials, {
    auth: auth.access,
    async handler({ auth: a }) {
      return { encoding: 'application/json', body: recommendedCredentials(ctx, await accountOf(a.did)) }
    },
  })

  xrpc.procedure(ids.ComAtprotoIdentityRequestPlcOperationSignature, {
    auth: auth.accessPrivileged,
    async handler({ auth: a }) {
      identityScope(a)
      const account = await accountOf(a.did)
      if (!isPlcDid(a.did)) throw new InvalidRequestError('Only did:plc accounts sign PLC operations')
      if (!account.email) throw new InvalidRequestError('Account does not have an email address')
      const token = emailToken()
      await ctx.storage.accounts.createEmailToken({
        did: a.did,
        purpose: PLC_TOKEN_PURPOSE,
        token,
        expiresAt: new Date(Date.now() + TOKEN_TTL_MS),
      })
      const message = {
        to: account.email,
        subject: 'PLC update requested',
        text: `Your code to sign a PLC operation (identity change) for ${account.handle}: ${token}\nIf you did not ask for it, ignore this email and change your password.`,
      }
      if (ctx.options.email) await ctx.options.email.send(message)
      else console.info(`[pds email] to ${message.to}: ${message.subject}\n${message.text}`)
      return undefined
    },
  })

  xrpc.procedure(ids.ComAtprotoIdentitySignPlcOperation, {
    input: { encoding: 'application/json' },
    auth: auth.accessPrivileged,
    async handler({ auth: a, input }) {
      identityScope(a)
      const body = (input?.body ?? {}) as Record<string, unknown>
      if (!isPlcDid(a.did)) throw new InvalidRequestError('Only did:plc accounts sign PLC operations')
      if (typeof body.token !== 'string' || !body.token) {
        throw new InvalidRequestError('email confirmation token required to sign PLC operations')
      }
      const owner = await ctx.storage.accounts.consumeEmailToken(PLC_TOKEN_PURPOSE, body.token.toUpperCase())
      if (owner !== a.did) throw new InvalidRequestError('Token is invalid or expired', 'InvalidToken')
      const last = await ctx.plc.getLastOp(a.did).catch(plcError)
      if (last.type === 'plc_tombstone') throw new InvalidRequestError('The DID is tombstoned')
      let operation: PlcOperation
      try {
        operation = await createUpdateOp(last, ctx.options.plcRotationKey, (cur) => ({
          ...cur,
          rotationKeys: (body.rotationKeys as string[] | undefined) ?? cur.rotationKeys,
          alsoKnownAs: (body.alsoKnownAs as string[] | undefined) ?? cur.alsoKnownAs,
          verificationMethods:
            (body.verificationMethods as Record<string, string> | undefined) ?? cur.verificationMethods,
          services: (body.services as PlcOperation['services'] | undefined) ?? cur.services,
        }))
        assertValidIncomingOp(operation) // a bad field is the caller's error, before anything is signed away
      } catch (err) {
        if (err instanceof PlcValidationError) {
          throw new InvalidRequestError(err.message, 'InvalidRequest')
        }
        throw err
      }
      return { encoding: 'application/json', body: { operation } }
    },
  })

  xrpc.procedure(ids.ComAtprotoIdentitySubmitPlcOperation, {
    input: { encoding: 'application/json' },
    auth: auth.accessPrivileged,
    async handler({ auth: a, input }) {
      identityScope(a)
      const account = await accountOf(a.did)
      if (!isPlcDid(a.did)) throw new InvalidRequestError('Only did:plc accounts submit PLC operations')
      let op: PlcOperation
      try {
        const parsed = assertValidIncomingOp((input?.body as { operation?: unknown })?.operation)
        if (parsed.type !== 'plc_operation') throw new Error('a tombstone cannot be submitted here')
        op = parsed
      } catch (err) {
        throw new InvalidRequestError(`Invalid operation: ${(err as Error).message}`, 'InvalidRequest')
      }
      // The operation must keep the account on this PDS, as the reference requires: a migration submits
      // on the new PDS, which is then "this" one.
      const want = recommendedCredentials(ctx, account)
      if (!op.rotationKeys.includes(want.rotationKeys[0]!))
        throw new InvalidRequestError("Rotation keys do not include this server's rotation key")
      const pds = op.services.atproto_pds
      if (pds?.type !== 'AtprotoPersonalDataServer')
        throw new InvalidRequestError('Incorrect type on atproto_pds service')
      if (pds.endpoint.replace(/\/+$/, '') !== ctx.publicUrl)
        throw new InvalidRequestError('Incorrect endpoint on atproto_pds service')
      if (op.verificationMethods.atproto !== want.verificationMethods.atproto)
        throw new InvalidRequestError('Incorrect signing key')
      if (op.alsoKnownAs[0] !== want.alsoKnownAs[0])
        throw new InvalidRequestError('Incorrect handle in alsoKnownAs')
      await ctx.plc.sendOperation(a.did, op).catch(plcError)
      await ctx.storage.sequencer.append([toSeqInsert(formatIdentityEvent(a.did, account.handle))])
      ctx.sequencer.wake()
      return undefined
    },
  })

  xrpc.procedure(ids.ComAtprotoIdentityUpdateHandle, {
    input: { encoding: 'application/json' },
    auth: auth.accessPrivileged,
    async handler({ auth: a, input }) {
      const body = input?.body as { handle?: unknown } | undefined
      if (typeof body?.handle !== 'string') throw new InvalidRequestError('Input/handle must be a string')
      if (a.kind === 'oauth') assertScope(a.scopes as ScopePermissions, { type: 'identity', attr: 'handle' })
      const { handle, kind } = ctx.handles.check(body.handle)
      // A handle on another domain must already resolve to this DID (handle.md, bidirectional).
      if (kind === 'external') await assertHandleResolvesTo(ctx, handle, a.did)
      else await assertNotCommunityHandleOfOther(ctx, handle, a.did)
      const account = await ctx.storage.accounts.getByDid(a.did)
      if (!account) throw new InvalidRequestError('Account not found', 'AccountNotFound')
      if (account.handle !== handle) {
        try {
          await ctx.storage.accounts.updateHandle(a.did, handle)
        } catch (err) {
          if (err instanceof UniqueConstraintError)
            throw new InvalidRequestError(`Handle already taken: ${handle}`, 'HandleNotAvailable')
          throw err
        }
        handleHostCache(ctx).invalidate(account.handle)
        handleHostCache(ctx).invalidate(handle)
        if (a.did.startsWith('did:plc:')) {
          try {
            const last = await ctx.plc.getLastOp(a.did)
            await ctx.plc.sendOperation(
              a.did,
              await createAtprotoUpdateOp(last, ctx.options.plcRotationKey, { handle }),
            )
          } catch (err) {
            await ctx.storage.accounts.updateHandle(a.did, account.handle) // keep DID doc and account in step
            throw err
          }
        }
      }
      // Emitted even when unchanged, as the reference does, so consumers can refresh their caches.
      await ctx.storage.sequencer.append([toSeqInsert(formatIdentityEvent(a.did, handle))])
      ctx.sequencer.wake()
      return undefined
    },
  })

  xrpc.query(ids.ComAtprotoIdentityResolveHandle, {
    params: paramsOf(ids.ComAtprotoIdentityResolveHandle),
    async handler({ params }) {
      const handle = String(params.handle).toLowerCase()
      // Our own domains answer from storage (accounts, then community handles; uncached, so a change is
      // seen at once); others from the network, through the SSRF-safe resolver, as the reference PDS does.
      let did: string | null
      if (ctx.handles.classify(handle).kind === 'service') did = await lookupHandleHost(ctx, handle)
      else did = await ctx.identity.handle.resolve(handle).catch(() => null)
      if (!did) throw new InvalidRequestError('Unable to resolve handle', 'HandleNotFound')
      return { encoding: 'application/json', body: { did } }
    },
  })
}
