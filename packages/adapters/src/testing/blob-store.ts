/**
 * The {@link BlobStore} contract as a test suite: `runBlobStoreConformance({ name, create })`.
 */
import { type BlobStore, BlobTooLargeError, cidForRaw } from '@next-atproto/core'
import { afterEach, describe, expect, it } from 'vitest'

/** Options of {@link runBlobStoreConformance}. */
export interface BlobStoreConformanceOptions {
  name: string
  /** A fresh, empty store (called once per test). */
  create: () => Promise<BlobStore>
  /** Release what `create` made (delete folders, buckets). */
  cleanup?: (store: BlobStore) => Promise<void>
  /** False for a store without the optional `deleteUnreferenced` (its tests are then skipped). */
  deleteUnreferenced?: boolean
}

/** A stream of `bytes` cut into `chunk`-sized pieces, like a request body arriving over the network. */
export function streamOf(bytes: Uint8Array, chunk = 16_384): ReadableStream<Uint8Array> {
  let offset = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close()
      controller.enqueue(bytes.slice(offset, offset + chunk))
      offset += chunk
    },
  })
}

/** Read a whole stream into one array. */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  const reader = stream.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    parts.push(value)
  }
  return new Uint8Array(Buffer.concat(parts))
}

/** Byte equality without vitest's element-by-element diff (slow on megabytes). */
const same = (actual: Uint8Array, expected: Uint8Array) =>
  expect(actual.byteLength === expected.byteLength && Buffer.compare(actual, expected) === 0).toBe(true)

const randomBytes = (n: number) => {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = (i * 2654435761 + n) >>> 24
  return out
}

const PNG = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82, 1)

/** Register the blob store contract tests. */
export function runBlobStoreConformance(options: BlobStoreConformanceOptions): void {
  describe(`blob store contract: ${options.name}`, () => {
    const made: BlobStore[] = []
    const fresh = async () => {
      const store = await options.create()
      made.push(store)
      return store
    }
    afterEach(async () => {
      for (const store of made.splice(0)) await options.cleanup?.(store)
    })

    it('hashes while streaming in, and serves the bytes once permanent', async () => {
      const store = await fresh()
      const bytes = randomBytes(1_000_003) // odd size: chunks do not line up
      const { key, size, cid } = await store.putTemp(streamOf(bytes, 65_536))
      expect(size).toBe(bytes.byteLength)
      expect(cid.equals(cidForRaw(bytes))).toBe(true)
      expect(await store.hasTemp(key)).toBe(true)
      expect(await store.get(cid)).toBeNull()
      await store.makePermanent(key, cid)
      expect(await store.hasTemp(key)).toBe(false)
      const got = await store.get(cid)
      expect(got?.size).toBe(bytes.byteLength)
      same(await readAll(got!.stream), bytes)
    })

    it('stores an empty blob', async () => {
      const store = await fresh()
      const { key, size, cid } = await store.putTemp(streamOf(new Uint8Array(0)))
      expect(size).toBe(0)
      await store.makePermanent(key, cid)
      same(await readAll((await store.get(cid))!.stream), new Uint8Array(0))
    })

    it('sniffs the MIME type from the first bytes, even split across chunks', async () => {
      const store = await fresh()
      expect((await store.putTemp(streamOf(PNG, 3))).mimeType).toBe('image/png')
      expect(
        (await store.putTemp(streamOf(new TextEncoder().encode('plain words')))).mimeType,
      ).toBeUndefined()
    })

    it('serves inclusive byte ranges, open-ended and past the end', async () => {
      const store = await fresh()
      const bytes = randomBytes(200_000)
      const { key, cid } = await store.putTemp(streamOf(bytes))
      await store.makePermanent(key, cid)
      const part = await store.get(cid, { start: 10, end: 99_999 })
      expect(part?.size).toBe(200_000) // the full size, for Content-Range
      same(await readAll(part!.stream), bytes.subarray(10, 100_000))
      same(await readAll((await store.get(cid, { start: 199_990 }))!.stream), bytes.subarray(199_990))
      same(await readAll((await store.get(cid, { start: 5, end: 5 }))!.stream), bytes.subarray(5, 6))
      expect((await readAll((await store.get(cid, { start: 300_000 }))!.stream)).byteLength).toBe(0)
    })

    it('refuses a blob over maxSize and keeps nothing', async () => {
      const store = await fresh()
      await expect(
        store.putTemp(streamOf(randomBytes(50_000), 1_000), { maxSize: 20_000 }),
      ).rejects.toBeInstanceOf(BlobTooLargeError)
      expect(await store.cleanupTemp(new Date(Date.now() + 60_000))).toBe(0)
    })

    it('keeps nothing when the upload stream fails midway', async () => {
      const store = await fresh()
      let sent = 0
      const failing = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ === 3) return controller.error(new Error('connection reset'))
          controller.enqueue(randomBytes(1_000))
        },
      })
      await expect(store.putTemp(failing)).rejects.toThrow('connection reset')
      expect(await store.cleanupTemp(new Date(Date.now() + 60_000))).toBe(0)
    })

    it('makes the same bytes permanent twice (concurrently) without error', async () => {
      const store = await fresh()
      const bytes = randomBytes(30_000)
      const a = await store.putTemp(streamOf(bytes))
      const b = await store.putTemp(streamOf(bytes))
      expect(a.key).not.toBe(b.key)
      expect(a.cid.equals(b.cid)).toBe(true)
      await Promise.all([store.makePermanent(a.key, a.cid), store.makePermanent(b.key, b.cid)])
      expect(await store.hasTemp(a.key)).toBe(false)
      expect(await store.hasTemp(b.key)).toBe(false)
      same(await readAll((await store.get(a.cid))!.stream), bytes)
    })

    it('rejects makePermanent of an unknown key with BlobNotFoundError', async () => {
      const store = await fresh()
      const cid = cidForRaw(randomBytes(10))
      await expect(store.makePermanent('00000000-0000-4000-8000-000000000000', cid)).rejects.toMatchObject({
        name: 'BlobNotFoundError',
      })
      await expect(store.makePermanent('../../etc/passwd', cid)).rejects.toMatchObject({
        name: 'BlobNotFoundError',
      })
      expect(await store.hasTemp('../../etc/passwd')).toBe(false)
      // A real temp key with someone else's CID is refused and the upload stays temporary.
      const up = await store.putTemp(streamOf(randomBytes(64)))
      await expect(store.makePermanent(up.key, cid)).rejects.toMatchObject({ name: 'BlobNotFoundError' })
      expect(await store.get(cid)).toBeNull()
      expect(await store.hasTemp(up.key)).toBe(true)
    })

    it('deletes permanent blobs and temporary uploads', async () => {
      const store = await fresh()
      const one = await store.putTemp(streamOf(randomBytes(100)))
      const two = await store.putTemp(streamOf(randomBytes(200)))
      await store.makePermanent(one.key, one.cid)
      await store.delete([one.cid, cidForRaw(randomBytes(3))]) // unknown CIDs are ignored
      expect(await store.get(one.cid)).toBeNull()
      await store.deleteTemp(two.key)
      expect(await store.hasTemp(two.key)).toBe(false)
    })

    it('cleans up only temporary uploads older than the cutoff', async () => {
      const store = await fresh()
      const old = await store.putTemp(streamOf(randomBytes(100)))
      await new Promise((r) => setTimeout(r, 30))
      const cutoff = new Date()
      await new Promise((r) => setTimeout(r, 30))
      const recent = await store.putTemp(streamOf(randomBytes(100)))
      expect(await store.cleanupTemp(cutoff)).toBe(1)
      expect(await store.hasTemp(old.key)).toBe(false)
      expect(await store.hasTemp(recent.key)).toBe(true)
    })

    it('lets a reader cancel a stream early', async () => {
      const store = await fresh()
      const bytes = randomBytes(500_000)
      const { key, cid } = await store.putTemp(streamOf(bytes))
      await store.makePermanent(key, cid)
      const reader = (await store.get(cid))!.stream.getReader()
      const first = await reader.read()
      expect(first.value!.byteLength).toBeGreaterThan(0)
      await reader.cancel()
      same(await readAll((await store.get(cid))!.stream), bytes)
    })

    const permanent = async (store: BlobStore, bytes: Uint8Array) => {
      const { key, cid } = await store.putTemp(streamOf(bytes))
      await store.makePermanent(key, cid)
      return cid
    }

    /** The store's `deleteUnreferenced`, which these tests require. */
    const twoPhase = (store: BlobStore) => {
      expect(store.deleteUnreferenced).toBeTypeOf('function')
      return store.deleteUnreferenced!.bind(store)
    }

    it.skipIf(options.deleteUnreferenced === false)(
      'deleteUnreferenced deletes what the check calls free and keeps the rest',
      async () => {
        const store = await fresh()
        const deleteUnreferenced = twoPhase(store)
        const [a, b] = [
          await permanent(store, randomBytes(3_000)),
          await permanent(store, randomBytes(4_000)),
        ]
        const never = cidForRaw(randomBytes(10))
        let asked: string[] = []
        const deleted = await deleteUnreferenced([a, b, never], async (cids) => {
          asked = cids.map(String)
          return cids.filter((c) => c.equals(a))
        })
        expect(deleted.map(String)).toEqual([a.toString()])
        expect(asked.sort()).toEqual([a.toString(), b.toString()].sort()) // not the CID never stored
        expect(await store.get(a)).toBeNull()
        same(await readAll((await store.get(b))!.stream), randomBytes(4_000))
      },
    )

    it.skipIf(options.deleteUnreferenced === false)(
      'deleteUnreferenced never loses bytes uploaded again while it checks, nor those stored just before',
      async () => {
        const store = await fresh()
        const deleteUnreferenced = twoPhase(store)
        const bytes = randomBytes(5_000)
        // Another account uploads the same bytes and commits while the collector checks, after the
        // check read the rows (so it still calls the CID free): the upload finds no permanent copy and
        // stores its own, which the collector's delete of the copy it set aside leaves alone. (Checking
        // first and deleting after would drop the only copy here: the upload saw the old one and
        // discarded its own.)
        const cid = await permanent(store, bytes)
        const deleted = await deleteUnreferenced([cid], async (cids) => {
          await permanent(store, bytes)
          return cids
        })
        expect(deleted.map(String)).toEqual([cid.toString()])
        same(await readAll((await store.get(cid))!.stream), bytes)
        // Its row is in place before the upload relies on the bytes, so a check that runs after it
        // does not call the CID free, and the copy goes back.
        await deleteUnreferenced([cid], async () => {
          await permanent(store, bytes)
          return []
        })
        same(await readAll((await store.get(cid))!.stream), bytes)
        // The upload made permanent just before the collector started found the old copy and dropped its
        // own: the collector's check sees its row and puts the old copy back.
        await permanent(store, bytes)
        await deleteUnreferenced([cid], async () => [])
        same(await readAll((await store.get(cid))!.stream), bytes)
      },
    )

    it.skipIf(options.deleteUnreferenced === false)(
      'deleteUnreferenced puts everything back when the check fails',
      async () => {
        const store = await fresh()
        const deleteUnreferenced = twoPhase(store)
        const bytes = randomBytes(2_000)
        const cid = await permanent(store, bytes)
        await expect(
          deleteUnreferenced([cid], async () => {
            throw new Error('database down')
          }),
        ).rejects.toThrow('database down')
        same(await readAll((await store.get(cid))!.stream), bytes)
      },
    )
  })
}
