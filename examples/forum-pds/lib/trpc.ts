// Server-side access for the forum's pages to what the framework hosts: a tRPC caller, no HTTP.
import { createAtprotoRouter } from 'next-atproto/trpc'
import { atproto, storageOf } from './atproto'

export const atprotoRouter = createAtprotoRouter({ storage: storageOf(atproto) })

/** Call it from server components: `await hosted.accounts.list()`. */
export const hosted = atprotoRouter.createCaller({})
