import { randomUUID } from 'node:crypto'
import { type BlobStore, type CID, cidForRaw } from '@next-atproto/core'

/** Error for a blob over the size limit while streaming in. */
export class BlobTooLargeError extends Error {
  override name = 'BlobTooLargeError'
}

/** Blob bytes in memory (tests, demos). */
export class MemoryBlobStore implements BlobStore {
  readonly #temp = new Map<string, Uint8Array>()
  readonly #permanent = new Map<string, Uint8Array>()

  async putTemp(body: ReadableStream<Uint8Array>, opts: { maxSize?: number } = {}) {
    const chunks: Uint8Array[] = []
    let size = 0
    for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength
      if (opts.maxSize !== undefined && size > opts.maxSize) throw new BlobTooLargeError('Blob too large')
      chunks.push(chunk)
    }
    const bytes = Buffer.concat(chunks)
    const key = randomUUID()
    this.#temp.set(key, bytes)
    return { key, size, cid: cidForRaw(bytes) }
  }

  async makePermanent(key: string, cid: CID) {
    const bytes = this.#temp.get(key)
    if (!bytes) return
    this.#permanent.set(cid.toString(), bytes)
    this.#temp.delete(key)
  }

  async get(cid: CID, range?: { start: number; end?: number }) {
    const bytes = this.#permanent.get(cid.toString())
    if (!bytes) return null
    const slice = range ? bytes.subarray(range.start, (range.end ?? bytes.length - 1) + 1) : bytes
    return {
      size: bytes.byteLength,
      stream: new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(slice)
          controller.close()
        },
      }),
    }
  }

  async deleteTemp(key: string) {
    this.#temp.delete(key)
  }

  async delete(cids: CID[]) {
    for (const cid of cids) this.#permanent.delete(cid.toString())
  }
}
