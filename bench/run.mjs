#!/usr/bin/env node
// `npm run bench`: every benchmark, one after the other, each side by side with the reference and
// printing ours/reference ratios. Run on an idle machine; figures are never asserted in tests.
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const benches = [
  ['repo.mjs', ['--expose-gc']],
  ['storage.mjs', ['--import', 'tsx']],
  ['lexicon.mjs', []],
  ['pds.mjs', []],
]
let failed = false
for (const [file, flags] of benches) {
  console.log(`\n=== bench/${file}`)
  const r = spawnSync(process.execPath, [...flags, join(here, file)], { stdio: 'inherit' })
  if (r.status !== 0) failed = true
}
process.exit(failed ? 1 : 0)
