import { fileURLToPath } from 'node:url'
import { defineConfig } from 'prisma/config'

// The Prisma 7 CLI wants a native schema-engine binary for generate/migrate (a download from
// binaries.prisma.sh). Where none is configured, use our JSON-RPC shim over @prisma/schema-engine-wasm.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= fileURLToPath(
  new URL('./scripts/schema-engine-shim.mjs', import.meta.url),
)

const provider = process.env.PRISMA_PROVIDER ?? 'sqlite'
export default defineConfig({
  schema: `test/prisma/${provider}`,
  migrations: { path: `prisma/migrations/${provider}` },
  datasource: { url: process.env.DATABASE_URL ?? 'file:./test.db' },
})
