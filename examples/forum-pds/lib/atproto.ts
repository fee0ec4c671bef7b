import { type Atproto, createAtproto } from '@next-atproto/core'

// One instance per process: Next's route bundles and the custom server may each load this module,
// and they must share one app (one firehose, one database pool).
const globalForAtproto = globalThis as unknown as { forumAtproto?: Atproto }

export const atproto: Atproto = (globalForAtproto.forumAtproto ??= createAtproto({
  publicUrl: process.env.PUBLIC_URL ?? `http://localhost:${process.env.PORT ?? 3000}`,
}))
