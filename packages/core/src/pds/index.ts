/**
 * The PDS service: hosts accounts and their repositories, serves com.atproto.{server,repo,sync,identity}
 * and the firehose. Mount it with `createAtproto({ services: [pds({...})] })`.
 * @module
 */
import type { AtprotoService } from '../atproto.js'
import { registerAccountAdminMethods } from './api/account-admin.js'
import { registerAdminMethods } from './api/admin.js'
import { registerBlobMethods } from './api/blobs.js'
import { registerIdentityMethods } from './api/identity.js'
import { registerImportMethods } from './api/import.js'
import { registerModerationMethods } from './api/moderation.js'
import { registerRepoMethods } from './api/repo.js'
import { registerServerMethods } from './api/server.js'
import { registerSyncMethods } from './api/sync.js'
import { createVerifiers } from './auth.js'
import type { PdsOptions } from './config.js'
import { createPdsContext, type PdsContext } from './context.js'
import { createHostApi, type PdsHostApi } from './host-api.js'

export type { EmailSender, PdsOptions } from './config.js'
export type { PdsContext } from './context.js'
export { DEFAULT_RESERVED_HANDLES, HandlePolicy, type HandlePolicyOptions } from './handle-policy.js'
export { hashPassword, verifyPassword } from './password.js'
export { Sequencer, type SequencerOptions } from './sequencer.js'

/** The PDS as a service; `context` is available after setup (for the host app's server-side API). */
export interface PdsService extends AtprotoService {
  readonly context: PdsContext
  /**
   * The host app's server-side API: create accounts for its users, look them up, write records on their
   * behalf, deactivate/activate/delete, in-process. Usable at once: calls wait for the PDS's setup.
   * @example
   * const account = await forumPds.host.createAccount({ userId: user.id, handle: 'alice.forum.example' })
   * await forumPds.host.writeRecords(account.did, [{ action: 'create', collection: 'app.bsky.feed.post', record }])
   */
  readonly host: PdsHostApi
}

/** Create the PDS service. */
export function pds(options: PdsOptions): PdsService {
  let context: PdsContext | undefined
  let ready!: (ctx: PdsContext) => void
  const contextReady = new Promise<PdsContext>((resolve) => {
    ready = resolve
  })
  const host = createHostApi(() => contextReady)
  return {
    name: 'pds',
    get context() {
      if (!context) throw new Error('pds: not set up yet (await atproto.ready)')
      return context
    },
    host,
    async setup(app) {
      context = createPdsContext(options, app.publicUrl, app.lexicons)
      const verifiers = createVerifiers(context)
      registerServerMethods(app.xrpc, context, verifiers)
      registerRepoMethods(app.xrpc, context, verifiers)
      registerSyncMethods(app.xrpc, context)
      registerIdentityMethods(app.xrpc, context, verifiers)
      registerBlobMethods(app.xrpc, context, verifiers)
      registerAccountAdminMethods(app.xrpc, context, verifiers)
      registerImportMethods(app.xrpc, context, verifiers)
      registerAdminMethods(app.xrpc, context)
      registerModerationMethods(app.xrpc, context, verifiers)
      ready(context)
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
