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
import { atprotoDidRoute, registerCommunityHandleMethods } from './community-handles.js'
import type { PdsOptions } from './config.js'
import { createPdsContext, type PdsContext } from './context.js'
import { CrawlerNotifier } from './crawlers.js'
import { didJsonRoute } from './did-web.js'
import { createHostApi, type PdsHostApi } from './host-api.js'
import { PdsJobs } from './jobs.js'

export { type BlobGcOptions, type BlobGcResult, claimBlobs, collectBlobGarbage } from './blob-gc.js'
export {
  COMMUNITY_HANDLE_NSIDS,
  HandleHostCache,
  type HandleHostCacheOptions,
  handleHostCache,
  lookupHandleHost,
  registerCommunityHandle,
  revokeCommunityHandle,
} from './community-handles.js'
export type { EmailSender, PdsOptions } from './config.js'
export type { PdsContext } from './context.js'
export {
  CrawlerNotifier,
  type CrawlerNotifierOptions,
  DEFAULT_CRAWL_INTERVAL_MS,
  requestCrawlUrl,
} from './crawlers.js'
export {
  assertDidDocForThisPds,
  currentDidDocument,
  didWebForHost,
  didWebHost,
  hostedDidDocument,
  isHostedDidWeb,
  verifyServiceAuthIssuer,
} from './did-web.js'
export { DEFAULT_RESERVED_HANDLES, HandlePolicy, type HandlePolicyOptions } from './handle-policy.js'
export {
  DEFAULT_BLOB_GRACE_MS,
  DEFAULT_JOB_INTERVAL_MS,
  DEFAULT_TEMP_BLOB_TTL_MS,
  PdsJobs,
  type PdsJobsOptions,
  PeriodicJob,
} from './jobs.js'
export { hashPassword, verifyPassword } from './password.js'
export { DEFAULT_FIREHOSE_RETENTION_MS, Sequencer, type SequencerOptions } from './sequencer.js'

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
  /** The maintenance jobs (scheduled on start unless `jobs: false`); available after setup. */
  readonly jobs: PdsJobs
}

/** Create the PDS service. */
export function pds(options: PdsOptions): PdsService {
  let context: PdsContext | undefined
  let ready!: (ctx: PdsContext) => void
  const contextReady = new Promise<PdsContext>((resolve) => {
    ready = resolve
  })
  const host = createHostApi(() => contextReady)
  let jobs: PdsJobs | undefined
  let crawlers: CrawlerNotifier | undefined
  let stopCrawlHook: (() => void) | undefined
  return {
    name: 'pds',
    get context() {
      if (!context) throw new Error('pds: not set up yet (await atproto.ready)')
      return context
    },
    host,
    get jobs() {
      if (!jobs) throw new Error('pds: not set up yet (await atproto.ready)')
      return jobs
    },
    async setup(app) {
      context = createPdsContext(options, app.publicUrl, app.lexicons)
      jobs = new PdsJobs(context, options.jobs || {})
      if (options.crawlers?.length) {
        crawlers = new CrawlerNotifier({
          hostname: new URL(app.publicUrl).host,
          crawlers: options.crawlers,
          intervalMs: options.crawlIntervalMs,
        })
      }
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
      registerCommunityHandleMethods(app.xrpc, context)
      app.route('/.well-known/did.json', didJsonRoute(context))
      app.route('/.well-known/atproto-did', atprotoDidRoute(context))
      ready(context)
    },
    async start() {
      await options.storage.check()
      await context?.sequencer.start()
      if (options.jobs !== false) jobs?.start()
      if (crawlers && context) {
        void crawlers.notify()
        stopCrawlHook = context.sequencer.onEvents(() => void crawlers?.notify())
      }
    },
    async close() {
      stopCrawlHook?.()
      await crawlers?.close()
      await jobs?.close()
      await context?.sequencer.close()
    },
  }
}
export { AccountSigningKey } from './signing-key.js'
