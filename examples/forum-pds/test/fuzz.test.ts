// 10,000 seeded random requests against the forum's Express mount over real HTTP on loopback: known and
// unknown NSIDs, wrong methods, bad and noisy params, malformed/oversize/CBOR/binary bodies, garbage
// auth, and raw-socket malformed HTTP. No answer may be a 5xx (501 only for unknown methods), every
// error is `{"error","message"}` JSON, and the acceptance mapping holds for the cases that pin it
// (fuzz-requests.ts). The Next.js mount runs the same suite in mounts.test.ts, after its one build.
// Reproduce a run with FUZZ_SEED=<seed>; FUZZ_COUNT changes its size.
import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startExpressTwin } from './express-twin.js'
import { type FuzzTarget, generateCase, Rng } from './fuzz-requests.js'
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

describe('fuzz: the generator', () => {
  it('is reproducible: one seed, one sequence of requests', () => {
    const target: FuzzTarget = {
      account: {
        did: 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa',
        handle: 'a.test',
        accessJwt: 'x.y.z',
        postRkey: '3kabc',
        postCid: 'bafy',
      },
      registered: (nsid) => nsid.startsWith('com.atproto.'),
      jsonLimit: 150 * 1024,
    }
    // One digest per request (method, path, headers, body bytes, expectation).
    const run = (seed: number) => {
      const rng = new Rng(seed)
      return Array.from({ length: 200 }, () => {
        const c = generateCase(rng, target)
        const h = createHash('sha256').update(JSON.stringify({ ...c, body: undefined, bytes: undefined }))
        if (c.kind === 'raw') h.update(c.bytes)
        else if (c.body) h.update(c.body)
        return h.digest('hex')
      })
    }
    expect(run(7)).toEqual(run(7))
    expect(run(7)).not.toEqual(run(8))
  })
})
