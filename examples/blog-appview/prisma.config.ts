import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { defineConfig } from 'prisma/config'

// No native Prisma schema engine on this machine? Use the wasm-backed shim @next-atproto/adapters ships
// (a configured PRISMA_SCHEMA_ENGINE_BINARY wins).
const adapters = dirname(createRequire(import.meta.url).resolve('@next-atproto/adapters/package.json'))
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= join(adapters, 'scripts', 'schema-engine-shim.mjs')

export default defineConfig({
  schema: 'prisma',
  datasource: { url: process.env.DATABASE_URL ?? `file:${process.env.DATA_DIR ?? './data'}/blog.db` },
})
