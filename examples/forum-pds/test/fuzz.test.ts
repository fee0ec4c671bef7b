// 10,000 seeded random requests against the forum's Express mount over real HTTP on loopback: known and
// unknown NSIDs, wrong methods, bad and noisy params, malformed/oversize/CBOR/binary bodies, garbage
// auth, and raw-socket malformed HTTP. No answer may be a 5xx (501 only for unknown methods), every
// error is `{"error","message"}` JSON, and the acceptance mapping holds for the cases that pin it
// (fuzz-requests.ts). The Next.js mount runs the same suite in mounts.test.ts, after its one build.
// Reproduce a run with FUZZ_SEED=<seed>; FUZZ_COUNT changes its size.
import { afterAll, beforeAll, describe } from 'vitest'
import { startExpressTwin } from './express-twin.js'
import { fuzzSuite } from './fuzz-suite.js'
import type { RunningApp } from './start-app.js'

describe('fuzz: the Express mount', () => {
  let app: RunningApp
  beforeAll(async () => {
    app = await startExpressTwin()
  })
  afterAll(() => app?.stop())
  fuzzSuite(() => app, Number(process.env.FUZZ_COUNT ?? 10_000))
})
