#!/usr/bin/env node
// After `npm install`: generate the Prisma clients the tests and examples use, offline. The Prisma CLI
// wants a native schema engine it would download; each prisma.config.ts points it at our wasm shim
// instead (unless PRISMA_SCHEMA_ENGINE_BINARY names a real engine). Skips clients that are up to date.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const prismaBin = join(root, 'node_modules', '.bin', 'prisma')
if (!existsSync(prismaBin)) process.exit(0) // a partial install (e.g. --omit=dev): nothing to generate

const newest = (dir) =>
  Math.max(
    ...readdirSync(dir)
      .filter((f) => f.endsWith('.prisma'))
      .map((f) => statSync(join(dir, f)).mtimeMs),
  )

/** [package dir, schema dir, env] of every client to generate. */
const targets = [
  ...['sqlite', 'postgresql', 'mysql'].map((p) => [
    'packages/adapters',
    `test/prisma/${p}`,
    { PRISMA_PROVIDER: p },
  ]),
  ['examples/forum-pds', 'prisma', {}],
]

for (const [pkg, schemaDir, env] of targets) {
  const cwd = join(root, pkg)
  const schema = join(cwd, schemaDir)
  if (!existsSync(schema)) continue
  const client = join(schema, 'generated', 'client.ts')
  if (existsSync(client) && statSync(client).mtimeMs > newest(schema)) continue
  execFileSync(prismaBin, ['generate'], {
    cwd,
    env: { ...process.env, ...env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  console.log(`postinstall: generated the Prisma client of ${pkg}/${schemaDir}`)
}
