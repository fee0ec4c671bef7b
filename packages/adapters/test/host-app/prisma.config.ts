// What a host app's prisma.config.ts looks like. Offline machines (no Prisma binary downloads) use the
// schema-engine shim of @next-atproto/adapters; with a native engine installed the helper does nothing.
// An installed app imports it from the package (see the adapters README); this sample sits in the repo.
import { defineConfig } from 'prisma/config'
// @ts-expect-error plain .mjs helper without type declarations
import { useOfflineSchemaEngine } from '../../scripts/offline-engine.mjs'

useOfflineSchemaEngine()

export default defineConfig({
  // The folder, not a file: Prisma's multi-file schema picks up prisma/atproto/*.prisma from `sync`.
  schema: 'prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'file:./dev.db' },
})
