// importRepo / listMissingBlobs through @atproto/api against an in-process PDS, as a suite any storage
// runs (memory in core, SQLite in packages/adapters); the CARs come from @atproto/repo (a foreign repo)
// and from this PDS's own getRepo (a migration round trip).
import { AtpAgent } from '@atproto/api'
import { Secp256k1Keypair } from '@atproto/crypto'
import {
  concatBytesAsync,
  getFullRepo,
  MemoryBlockstore,
  Repo as RefRepo,
  verifyRepoCar,
  WriteOpAction,
} from '@atproto/repo'
import { CID as MfCid } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Atproto } from '../atproto.js'
import { decodeCbor } from '../data/cbor.js'
import { readCarBytes } from '../repo/car.js'
import type { StorageAdapter } from '../storage/types.js'
import { inProcessPds } from './test-pds-app.js'

const publicUrl = 'http://pds.test'
const CAR = 'application/vnd.ipld.car'
let app: Atproto
let storage: StorageAdapter
const agentFor = () =>
  new AtpAgent({ service: publicUrl, fetch: (input, init) => app.fetch(new Request(input as string, init)) })

/** Register the importRepo tests over storage made by `makeStorage` (fresh, migrated). */
export function importRepoSuite(makeStorage: () => Promise<StorageAdapter>): void {
  beforeAll(async () => {
    storage = await makeStorage()
    const made = inProcessPds({ publicUrl, storage, maxImportSize: 256 * 1024 }).app
    app = made
    await app.start()
  })
  afterAll(async () => {
    await app.close()
    await storage.close()
  })

  const newAccount = async () => {
    const agent = agentFor()
    const name = `a${Math.random().toString(36).slice(2, 9)}`
    const res = await agent.createAccount({ handle: `${name}.test`, password: 'password-1' })
    return { agent, did: res.data.did }
  }

  const didKeyOf = async (did: string) => {
    const doc = (await agentFor().com.atproto.repo.describeRepo({ repo: did })).data.didDoc as {
      verificationMethod: Array<{ publicKeyMultibase: string }>
    }
    return `did:key:${doc.verificationMethod[0]!.publicKeyMultibase}`
  }

  const getRepo = async (did: string) =>
    new Uint8Array((await agentFor().com.atproto.sync.getRepo({ did })).data)

  const rawCid = async (bytes: Uint8Array) => MfCid.createV1(0x55, await sha256.digest(bytes))

  /** A repo built by the reference library for `did`, signed by a key this PDS never saw. */
  async function foreignCar(
    did: string,
    records: Array<{ collection: string; rkey: string; record: unknown }>,
  ) {
    const storage = new MemoryBlockstore()
    const repo = await RefRepo.create(
      storage,
      did,
      await Secp256k1Keypair.create(),
      records.map((r) => ({ action: WriteOpAction.Create, ...r }) as never),
    )
    return concatBytesAsync(getFullRepo(storage, repo.cid))
  }

  const seqEventsOf = async (did: string) =>
    (await storage.sequencer.range({ limit: 10_000 })).filter((e) => e.did === did)

  describe('importRepo', () => {
    it('imports a foreign repo: records served, re-signed by the account key, #sync on the firehose, blobs missing until uploaded', async () => {
      const { agent, did } = await newAccount()
      const image = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 1, 2, 3, 4])
      const blobCid = await rawCid(image)
      const car = await foreignCar(did, [
        {
          collection: 'app.test.post',
          rkey: '3kaaaaaaaaa22',
          record: { $type: 'app.test.post', text: 'one' },
        },
        {
          collection: 'app.test.post',
          rkey: '3kaaaaaaaaa23',
          record: { $type: 'app.test.post', text: 'two' },
        },
        {
          collection: 'app.test.profile',
          rkey: 'self',
          record: {
            $type: 'app.test.profile',
            avatar: { $type: 'blob', ref: blobCid, mimeType: 'image/png', size: image.length },
          },
        },
      ])
      const before = (await seqEventsOf(did)).length
      await agent.com.atproto.repo.importRepo(car, { encoding: CAR })

      const posts = await agent.com.atproto.repo.listRecords({ repo: did, collection: 'app.test.post' })
      expect(posts.data.records.map((r) => (r.value as { text: string }).text).sort()).toEqual(['one', 'two'])
      const exported = await getRepo(did)
      const verified = await verifyRepoCar(exported, did, await didKeyOf(did))
      expect(verified.creates.map((c) => `${c.collection}/${c.rkey}`).sort()).toEqual([
        'app.test.post/3kaaaaaaaaa22',
        'app.test.post/3kaaaaaaaaa23',
        'app.test.profile/self',
      ])

      const events = (await seqEventsOf(did)).slice(before)
      expect(events.map((e) => e.type)).toEqual(['sync'])
      const body = decodeCbor(events[0]!.body) as { did: string; rev: string; blocks: Uint8Array }
      const latest = await agent.com.atproto.sync.getLatestCommit({ did })
      expect(body.rev).toBe(latest.data.rev)
      expect(readCarBytes(body.blocks).roots[0]!.toString()).toBe(latest.data.cid)

      const missing = await agent.com.atproto.repo.listMissingBlobs({})
      expect(missing.data.blobs).toEqual([
        { cid: blobCid.toString(), recordUri: `at://${did}/app.test.profile/self` },
      ])
      await expect(
        agentFor().com.atproto.sync.getBlob({ did, cid: blobCid.toString() }),
      ).rejects.toMatchObject({
        error: 'BlobNotFound',
      })
      const up = await agent.uploadBlob(image, { encoding: 'image/png' })
      expect(up.data.blob.ref.toString()).toBe(blobCid.toString())
      expect((await agent.com.atproto.repo.listMissingBlobs({})).data.blobs).toEqual([])
      const served = await agentFor().com.atproto.sync.getBlob({ did, cid: blobCid.toString() })
      expect(new Uint8Array(served.data)).toEqual(image)
    })

    it('pages listMissingBlobs with a cursor', async () => {
      const { agent, did } = await newAccount()
      const cids = await Promise.all([1, 2, 3].map((n) => rawCid(new Uint8Array([n, n, n]))))
      const car = await foreignCar(
        did,
        cids.map((ref, i) => ({
          collection: 'app.test.photo',
          rkey: `p${i}`,
          record: { $type: 'app.test.photo', image: { $type: 'blob', ref, mimeType: 'image/png', size: 3 } },
        })),
      )
      await agent.com.atproto.repo.importRepo(car, { encoding: CAR })
      const first = await agent.com.atproto.repo.listMissingBlobs({ limit: 2 })
      expect(first.data.blobs).toHaveLength(2)
      expect(first.data.cursor).toBeDefined()
      const second = await agent.com.atproto.repo.listMissingBlobs({ limit: 2, cursor: first.data.cursor })
      const seen = [...first.data.blobs, ...second.data.blobs].map((b) => b.cid).sort()
      expect(seen).toEqual(cids.map(String).sort())
    })

    it('migration round trip: getRepo of one account imported into another replaces its records', async () => {
      const source = await newAccount()
      for (let i = 0; i < 30; i++) {
        await source.agent.com.atproto.repo.createRecord({
          repo: source.did,
          collection: 'app.test.note',
          record: { $type: 'app.test.note', n: i },
        })
      }
      const target = await newAccount()
      const stale = await target.agent.com.atproto.repo.createRecord({
        repo: target.did,
        collection: 'app.test.old',
        record: { $type: 'app.test.old' },
      })
      const revBefore = (await target.agent.com.atproto.sync.getLatestCommit({ did: target.did })).data.rev
      await target.agent.com.atproto.repo.importRepo(await getRepo(source.did), { encoding: CAR })

      const list = async (agent: AtpAgent, repo: string) =>
        (
          await agent.com.atproto.repo.listRecords({ repo, collection: 'app.test.note', limit: 100 })
        ).data.records.map((r) => [r.uri.split('/').pop(), r.cid])
      expect(await list(target.agent, target.did)).toEqual(await list(source.agent, source.did))
      await expect(
        target.agent.com.atproto.repo.getRecord({
          repo: target.did,
          collection: 'app.test.old',
          rkey: stale.data.uri.split('/').pop()!,
        }),
      ).rejects.toMatchObject({ error: 'RecordNotFound' })
      const latest = (await target.agent.com.atproto.sync.getLatestCommit({ did: target.did })).data.rev
      expect(latest > revBefore).toBe(true)
      const verified = await verifyRepoCar(await getRepo(target.did), target.did, await didKeyOf(target.did))
      expect(verified.creates).toHaveLength(30)
      // Writes continue on the imported tree.
      await target.agent.com.atproto.repo.createRecord({
        repo: target.did,
        collection: 'app.test.note',
        record: { $type: 'app.test.note', n: 30 },
      })
      expect(await list(target.agent, target.did)).toHaveLength(31)
    })

    it('refuses bad CARs, oversize bodies, app passwords and anonymous callers, leaving the repo as it was', async () => {
      const { agent, did } = await newAccount()
      await agent.com.atproto.repo.createRecord({ repo: did, collection: 'app.test.keep', record: { a: 1 } })
      const head = async () => (await agent.com.atproto.sync.getLatestCommit({ did })).data
      const before = await head()
      const eventsBefore = (await seqEventsOf(did)).length

      const good = await foreignCar(did, [
        { collection: 'app.test.post', rkey: 'r1', record: { $type: 'app.test.post', text: 'x' } },
      ])
      // Drop the record block: the tree then points at a record the CAR does not hold.
      const { roots, blocks } = readCarBytes(good)
      const { blocksToCarFile } = await import('../repo/car.js')
      const { BlockMap } = await import('../repo/block-map.js')
      const commitBlock = blocks.get(roots[0]!)!
      const recordCid = [...blocks].find(([, b]) => {
        const v = decodeCbor(b) as { $type?: string }
        return v?.$type === 'app.test.post'
      })![0]
      const partial = new BlockMap()
      for (const [c, b] of blocks) if (!c.equals(recordCid)) partial.set(c, b)
      partial.set(roots[0]!, commitBlock)
      const missingRecord = await blocksToCarFile(roots[0]!, partial)

      const bad: Array<[string, Uint8Array, string | number]> = [
        ['garbage', new TextEncoder().encode('not a car'), 'InvalidRequest'],
        ['truncated', good.slice(0, good.length - 5), 'InvalidRequest'],
        ['missing record block', missingRecord, 'InvalidRequest'],
        ['no roots', await blocksToCarFile(null, blocks), 'InvalidRequest'],
        ['oversize', new Uint8Array(300 * 1024), 413],
      ]
      for (const [name, body, expected] of bad) {
        const err = await agent.com.atproto.repo.importRepo(body, { encoding: CAR }).catch((e) => e)
        if (typeof expected === 'number') expect(err.status, name).toBe(expected)
        else expect(err, name).toMatchObject({ status: 400, error: expected })
      }
      await expect(agentFor().com.atproto.repo.importRepo(good, { encoding: CAR })).rejects.toMatchObject({
        status: 401,
      })
      const appPassword = await agent.com.atproto.server.createAppPassword({ name: 'app' })
      const appAgent = agentFor()
      await appAgent.login({ identifier: did, password: appPassword.data.password })
      await expect(appAgent.com.atproto.repo.importRepo(good, { encoding: CAR })).rejects.toMatchObject({
        status: 403,
      })
      expect(await head()).toEqual(before)
      expect((await seqEventsOf(did)).length).toBe(eventsBefore)
      expect(
        (await agent.com.atproto.repo.listRecords({ repo: did, collection: 'app.test.keep' })).data.records,
      ).toHaveLength(1)
    })
  })
}
