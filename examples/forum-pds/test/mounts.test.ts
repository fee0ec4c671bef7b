import { afterAll, beforeAll, describe } from 'vitest'
import { startExpressTwin } from './express-twin.js'
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
})
