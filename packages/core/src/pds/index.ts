/**
 * The PDS service: hosts accounts and their repositories, serves com.atproto.{server,repo,sync,identity}
 * and the firehose. Mount it with `createAtproto({ services: [pds({...})] })`.
 * @module
 */
import type { AtprotoService } from '../atproto.js'
import { registerAccountAdminMethods } from './api/account-admin.js'
import { registerBlobMethods } from './api/blobs.js'
import { registerIdentityMethods } from './api/identity.js'
import { registerRepoMethods } from './api/repo.js'
import { registerServerMethods } from './api/server.js'
import { registerSyncMethods } from './api/sync.js'
import { createVerifiers } from './auth.js'
import type { PdsOptions } from './config.js'
import { createPdsContext, type PdsContext } from './context.js'

export type { EmailSender, PdsOptions } from './config.js'
export type { PdsContext } from './context.js'
export { DEFAULT_RESERVED_HANDLES, HandlePolicy, type HandlePolicyOptions } from './handle-policy.js'
export { hashPassword, verifyPassword } from './password.js'
export { Sequencer, type SequencerOptions } from './sequencer.js'

/** The PDS as a service; `context` is available after setup (for the host app's server-side API). */
export interface PdsService extends AtprotoService {
  readonly context: PdsContext
}

/** Create the PDS service. */
export function pds(options: PdsOptions): PdsService {
  let context: PdsContext | undefined
  return {
    name: 'pds',
    get context() {
      if (!context) throw new Error('pds: not set up yet (await atproto.ready)')
      return context
    },
    async setup(app) {
      context = createPdsContext(options, app.publicUrl, app.lexicons)
      const verifiers = createVerifiers(context)
      registerServerMethods(app.xrpc, context, verifiers)
      registerRepoMethods(app.xrpc, context, verifiers)
      registerSyncMethods(app.xrpc, context)
      registerIdentityMethods(app.xrpc, context, verifiers)
      registerBlobMethods(app.xrpc, context, verifiers)
      registerAccountAdminMethods(app.xrpc, context, verifiers)
    },
    async start() {
      await options.storage.check()
      await context?.sequencer.start()
    },
    async close() {
      await context?.sequencer.close()
    },
  }
}
export { AccountSigningKey } from './signing-key.js'
