/** com.atproto.identity.*: what a PDS answers about its own accounts. */
import { ids } from '../../lexicons/nsid.js'
import { assertScope, type ScopePermissions } from '../../oauth/scopes.js'
import { createAtprotoUpdateOp } from '../../plc/operations.js'
import { UniqueConstraintError } from '../../storage/errors.js'
import type { XrpcServer } from '../../xrpc/server.js'
import { InvalidRequestError } from '../../xrpc/xrpc-error.js'
import type { PdsVerifiers } from '../auth.js'
import type { PdsContext } from '../context.js'
import { formatIdentityEvent } from '../events.js'
import { paramsOf } from '../lexicon-params.js'
import { toSeqInsert } from '../repo-writer.js'

/** Register com.atproto.identity.* on the XRPC server. */
export function registerIdentityMethods(xrpc: XrpcServer, ctx: PdsContext, auth: PdsVerifiers): void {
  xrpc.procedure(ids.ComAtprotoIdentityUpdateHandle, {
    input: { encoding: 'application/json' },
    auth: auth.accessPrivileged,
    async handler({ auth: a, input }) {
      const body = input?.body as { handle?: unknown } | undefined
      if (typeof body?.handle !== 'string') throw new InvalidRequestError('Input/handle must be a string')
      if (a.kind === 'oauth') assertScope(a.scopes as ScopePermissions, { type: 'identity', attr: 'handle' })
      const { handle, kind } = ctx.handles.check(body.handle)
      if (kind === 'external') {
        // A handle on another domain must already resolve to this DID (handle.md, bidirectional).
        throw new InvalidRequestError('External handles are not supported yet', 'UnsupportedDomain')
      }
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
      const account = await ctx.storage.accounts.getByHandle(handle)
      if (!account || account.status === 'deleted') {
        throw new InvalidRequestError('Unable to resolve handle', 'HandleNotFound')
      }
      return { encoding: 'application/json', body: { did: account.did } }
    },
  })
}
