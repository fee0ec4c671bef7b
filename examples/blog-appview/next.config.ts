import type { NextConfig } from 'next'

const config: NextConfig = {
  // The framework packages run as plain Node modules (not bundled), so every route handler and page
  // shares one OAuth client and one database pool per process.
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
