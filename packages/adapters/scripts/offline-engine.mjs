// Lets the stock Prisma 7 CLI run where Prisma's binary host is unreachable: when no native
// schema-engine is installed, point PRISMA_SCHEMA_ENGINE_BINARY at our wasm-backed shim. A value the
// user already set, or a native engine downloaded into @prisma/engines, always wins.
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** Absolute path of the schema-engine shim shipped with @next-atproto/adapters. */
export const SHIM_PATH = fileURLToPath(new URL('./schema-engine-shim.mjs', import.meta.url))

/** True when a native schema-engine binary is installed next to the Prisma CLI. */
export function hasNativeSchemaEngine(from = process.cwd()) {
  try {
    const require = createRequire(path.join(from, 'noop.js'))
    const dir = path.dirname(require.resolve('@prisma/engines/package.json'))
    return fs.readdirSync(dir).some((f) => f.startsWith('schema-engine'))
  } catch {
    return false
  }
}

/**
 * Use the shim unless a native engine or an explicit PRISMA_SCHEMA_ENGINE_BINARY exists.
 * Call it at the top of prisma.config.ts: the CLI evaluates the config before looking for the engine.
 * @returns the engine path in effect, or undefined when the native engine is used.
 */
export function useOfflineSchemaEngine() {
  if (!process.env.PRISMA_SCHEMA_ENGINE_BINARY && !hasNativeSchemaEngine()) {
    process.env.PRISMA_SCHEMA_ENGINE_BINARY = SHIM_PATH
  }
  return process.env.PRISMA_SCHEMA_ENGINE_BINARY
}
