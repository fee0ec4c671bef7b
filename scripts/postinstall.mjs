#!/usr/bin/env node
// After `npm install` at the repo root: generate every Prisma client the tests and examples import,
// offline. The Prisma 7 CLI wants a native schema engine it downloads from binaries.prisma.sh; where no
// native engine is installed (and PRISMA_SCHEMA_ENGINE_BINARY is unset) we point it at the wasm-backed
// shim of @next-atproto/adapters, so this works on machines that reach only the npm registry and keeps
// using the native engine everywhere else.
// Before generating, the synced copies of the adapters' schema fragments (test/prisma/<provider>/ and
// examples/*/prisma/atproto/) are refreshed, so a client can never be generated from a stale copy.
// Idempotent and fast: a client is regenerated only when a schema file is newer than its output
// (`--force` regenerates all); clients are generated in parallel.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)))
const adapters = path.join(root, 'packages/adapters')
const prismaCli = path.join(root, 'node_modules/prisma/build/index.js')
const force = process.argv.includes('--force')

if (!fs.existsSync(prismaCli)) {
  console.log('postinstall: prisma is not installed (e.g. --omit=dev), no clients to generate')
  process.exit(0)
}

const { useOfflineSchemaEngine } = await import(path.join(adapters, 'scripts/offline-engine.mjs'))
const { allFragments, syncFragments } = await import(path.join(adapters, 'scripts/schema.mjs'))
const engine = useOfflineSchemaEngine()

/** Every client to generate: `cwd` holds the prisma.config.ts, `schemaDir` the (multi-file) schema. */
const targets = ['sqlite', 'postgresql', 'mysql'].map((provider) => ({
  name: `packages/adapters/test/prisma/${provider}`,
  cwd: adapters,
  schemaDir: path.join(adapters, `test/prisma/${provider}`),
  env: { PRISMA_PROVIDER: provider },
  copies: path.join(adapters, `test/prisma/${provider}`),
}))
// Examples with a prisma.config.ts and a prisma/ folder (their fragment copies live in prisma/atproto/).
for (const ex of fs.readdirSync(path.join(root, 'examples'))) {
  const cwd = path.join(root, 'examples', ex)
  if (!fs.existsSync(path.join(cwd, 'prisma.config.ts')) || !fs.existsSync(path.join(cwd, 'prisma'))) continue
  const copies = path.join(cwd, 'prisma/atproto')
  targets.push({
    name: `examples/${ex}`,
    cwd,
    schemaDir: path.join(cwd, 'prisma'),
    env: {},
    copies: fs.existsSync(copies) ? copies : null,
  })
}

/** Re-sync our copies in `dir`, keeping the selection it has (every fragment if it matches none). */
function refreshCopies(dir) {
  const names = allFragments()
  const present = fs
    .readdirSync(dir)
    .map((f) => /^(?:atproto-)?(.+)\.prisma$/.exec(f)?.[1])
    .filter((n) => n && names.includes(n))
  syncFragments(dir, present.length ? present : undefined)
}

/** The .prisma files of a schema folder (recursively, as Prisma reads it), generated output excluded. */
function schemaFiles(dir) {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith('.prisma'))
    .map((d) => path.join(d.parentPath, d.name))
    .filter((f) => !f.split(path.sep).includes('generated'))
}

/** The generator's output folder, resolved against the schema file declaring it. */
function outputDir(files) {
  for (const f of files) {
    const m = /generator\s+\w+\s*\{[^}]*?output\s*=\s*"([^"]+)"/s.exec(fs.readFileSync(f, 'utf8'))
    if (m) return path.resolve(path.dirname(f), m[1])
  }
  return null
}

function generate(t) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [prismaCli, 'generate'], {
      cwd: t.cwd,
      env: { ...process.env, ...t.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let log = ''
    child.stdout.on('data', (d) => (log += d))
    child.stderr.on('data', (d) => (log += d))
    child.on('close', (code) => resolve({ code, log }))
  })
}

const started = performance.now()
const jobs = []
for (const t of targets) {
  if (!fs.existsSync(t.schemaDir)) continue
  if (t.copies) refreshCopies(t.copies)
  const files = schemaFiles(t.schemaDir)
  const out = outputDir(files)
  const inputs = Math.max(
    ...[...files, path.join(t.cwd, 'prisma.config.ts')]
      .filter((f) => fs.existsSync(f))
      .map((f) => fs.statSync(f).mtimeMs),
  )
  const marker = out && path.join(out, 'client.ts')
  if (!force && marker && fs.existsSync(marker) && fs.statSync(marker).mtimeMs > inputs) continue
  jobs.push(
    generate(t).then(({ code, log }) => {
      if (code === 0) return console.log(`postinstall: generated the Prisma client of ${t.name}`)
      process.stderr.write(`postinstall: prisma generate failed for ${t.name}:\n${log}\n`)
      process.exitCode = 1
    }),
  )
}
await Promise.all(jobs)
const took = ((performance.now() - started) / 1000).toFixed(1)
console.log(
  jobs.length
    ? `postinstall: ${jobs.length} Prisma client(s) in ${took}s${engine ? ' (schema engine: offline shim)' : ''}`
    : 'postinstall: Prisma clients are up to date',
)
