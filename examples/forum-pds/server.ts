// server.ts
// Custom server: Next.js route handlers cannot upgrade to WebSocket, so the firehose
// (com.atproto.sync.subscribeRepos) is served here, next to Next's own request handler.
process.env.NEXT_TELEMETRY_DISABLED ??= '1'

import { createNextServer } from 'next-atproto'
import { atproto } from './lib/atproto'

const port = Number(process.env.PORT ?? 3000)
const { url } = await createNextServer({ app: atproto, port, dir: import.meta.dirname })
console.log(`forum-pds ready on ${url} (xrpc health: ${url}/xrpc/_health)`)
