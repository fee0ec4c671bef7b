// The blog's server: `next start` plus the app object created here first, outside Next's bundles, so
// route handlers and pages share this one instance (OAuth client, database pool) through globalThis.
process.env.NEXT_TELEMETRY_DISABLED ??= '1'

import { createNextServer } from 'next-atproto'
import { blog } from './lib/atproto'

const port = Number(process.env.PORT ?? 3001)
const { url } = await createNextServer({
  app: blog.app,
  port,
  hostname: '127.0.0.1',
  dir: import.meta.dirname,
})
console.log(`blog-appview ready on ${url} (client id: ${blog.client.clientId})`)
