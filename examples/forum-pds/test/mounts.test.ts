import { afterAll, beforeAll, describe } from 'vitest'
import { startExpressTwin } from './express-twin.js'
import { fuzzSuite } from './fuzz-suite.js'
import { identitySuite } from './identity-suite.js'
import { pagesSuite } from './pages-suite.js'
import { pdsSuite } from './pds-suite.js'
import { signupSuite } from './signup-suite.js'
import { buildApp, type RunningApp, startApp } from './start-app.js'
import { syncSuite } from './sync-suite.js'
import { xrpcSuite } from './xrpc-suite.js'

describe('forum-pds on Next.js (next build + custom server)', () => {
  let app: RunningApp
  beforeAll(async () => {
    buildApp()
    app = await startApp()
  })
  afterAll(() => app?.stop())
  xrpcSuite(() => app.url)
  pdsSuite(() => app.url)
  syncSuite(() => app.url)
  signupSuite(() => app.url)
  identitySuite(
    () => app.url,
    () => app.dataDir,
  )
  pagesSuite(() => app.url)
  // A share of the fuzz run (fuzz.test.ts sends the full 10,000 to the Express twin).
  fuzzSuite(() => app, Number(process.env.FUZZ_NEXT_COUNT ?? 2_000))
})

describe('forum-pds on Express', () => {
  let app: RunningApp
  beforeAll(async () => {
    app = await startExpressTwin()
  })
  afterAll(() => app?.stop())
  xrpcSuite(() => app.url)
  pdsSuite(() => app.url)
  syncSuite(() => app.url)
  signupSuite(() => app.url)
  identitySuite(
    () => app.url,
    () => app.dataDir,
  )
})
