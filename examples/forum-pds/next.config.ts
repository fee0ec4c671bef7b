// next.config.ts
import type { NextConfig } from 'next'

const config: NextConfig = {
  // The framework packages run as plain Node modules (not bundled) so route handlers and the custom
  // server share one instance of the services (and one firehose) in the process.
  serverExternalPackages: [
    '@next-atproto/core',
    '@next-atproto/adapters',
    'next-atproto',
    '@prisma/client',
    '@prisma/adapter-better-sqlite3',
    'better-sqlite3',
  ],
  poweredByHeader: false,
}

export default config
