// importRepo and listMissingBlobs over memory storage (the same suite runs on SQLite in packages/adapters/test).
import { memoryAdapter } from '@next-atproto/adapters'
import { importRepoSuite } from '../test-import-suite.js'

importRepoSuite(async () => memoryAdapter())
