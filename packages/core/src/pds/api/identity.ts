/** com.atproto.identity.*: what a PDS answers about its own accounts. */
import { ids } from '../../lexicons/nsid.js'
import type { XrpcServer } from '../../xrpc/server.js'
import { InvalidRequestError } from '../../xrpc/xrpc-error.js'
import type { PdsContext } from '../context.js'
import { paramsOf } from '../lexicon-params.js'

/** Register com.atproto.identity.* on the XRPC server. */
export function registerIdentityMethods(xrpc: XrpcServer, ctx: PdsContext): void {
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
