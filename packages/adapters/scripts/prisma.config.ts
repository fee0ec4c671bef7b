// Prisma CLI config for our own schema (tests, migrations). PRISMA_PROVIDER picks sqlite|postgresql|mysql;
// PRISMA_SCHEMA_DIR is the assembled multi-file schema folder (scripts/schema.mjs writeProviderSchema).
import { defineConfig } from 'prisma/config'
// @ts-expect-error plain .mjs helper without types
import { useOfflineSchemaEngine } from './offline-engine.mjs'

useOfflineSchemaEngine()

const provider = process.env.PRISMA_PROVIDER ?? 'sqlite'
export default defineConfig({
  schema: process.env.PRISMA_SCHEMA_DIR ?? `../test/generated/prisma/${provider}/schema`,
  migrations: { path: `../prisma/migrations/${provider}` },
  datasource: {
    url: process.env.DATABASE_URL ?? 'file:./dev.db',
    shadowDatabaseUrl: process.env.SHADOW_DATABASE_URL,
  },
})
