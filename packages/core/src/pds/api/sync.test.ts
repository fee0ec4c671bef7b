// sync.getRepo's two export paths (buffered from one snapshot, streamed batch by batch) give the same
// verifiable CAR, and a buffered export is not disturbed by commits landing while it is sent.
import { AtpAgent } from '@atproto/api'
import { verifyRepoCar } from '@atproto/repo'
import { afterAll, describe, expect, it } from 'vitest'
import type { Atproto } from '../../atproto.js'
import { inProcessPds } from '../test-pds-app.js'

/** A buffer size the 120-record repo passes by its record count (100 B each) and exceeds in bytes. */
const MIDWAY = 15_000
const apps: Atproto[] = []
afterAll(async () => {
  for (const app of apps) await app.close()
})

async function pdsWith(exportBufferBytes: number) {
  const { app, service } = inProcessPds({ exportBufferBytes })
  apps.push(app)
  await app.start()
  const agent = new AtpAgent({
    service: 'http://pds.test',
    fetch: (input, init) => app.fetch(new Request(input as string, init)),
  })
  const { did } = await service.host.createAccount({ userId: 'u1', handle: 'member.test' })
  const write = (i: number) =>
    service.host.writeRecords(did, [
      { action: 'create', collection: 'app.test.post', rkey: `r${i}`, record: { text: `post ${i}` } },
    ])
  for (let i = 0; i < 120; i++) await write(i)
  return { agent, did, write }
}

describe('sync.getRepo export paths', () => {
  for (const [name, cap] of [
    ['buffered from one snapshot', 32 * 1024 * 1024],
    ['streamed (buffering off)', 0],
    ['streamed (over the buffer size by its record count)', 4_000],
    ['streamed (over the buffer size, found midway)', MIDWAY],
  ] as const) {
    it(`${name}: a CAR of the whole current version that the reference verifies`, async () => {
      const { agent, did } = await pdsWith(cap)
      const car = (await agent.com.atproto.sync.getRepo({ did })).data
      // The midway case is real: the count check lets it through, the bytes do not.
      expect(120 * 100).toBeLessThanOrEqual(MIDWAY)
      expect(car.byteLength).toBeGreaterThan(MIDWAY)
      const verified = await verifyRepoCar(car, did)
      expect(verified.creates).toHaveLength(120)
      const head = (await agent.com.atproto.sync.getLatestCommit({ did })).data
      expect(verified.commit.rev).toBe(head.rev)
    })
  }

  it('a buffered export is one version even when commits land while it is read and sent', async () => {
    const { agent, did, write } = await pdsWith(32 * 1024 * 1024)
    const exports = Array.from({ length: 5 }, () => agent.com.atproto.sync.getRepo({ did }))
    for (let i = 120; i < 140; i++) await write(i)
    for (const res of await Promise.all(exports)) {
      const verified = await verifyRepoCar(res.data, did)
      expect(verified.creates.length).toBeGreaterThanOrEqual(120)
    }
  })
})
