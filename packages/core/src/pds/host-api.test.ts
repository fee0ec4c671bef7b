// The host API over memory storage (the same suite runs on SQLite in packages/adapters/test).
import { memoryAdapter } from '@next-atproto/adapters'
import { describe } from 'vitest'
import { hostApiSuite } from './test-host-api-suite.js'

describe('host API (memory)', () => hostApiSuite(async () => memoryAdapter()))
