import { randomUUID } from 'node:crypto'
import {
  BlobNotFoundError,
  type BlobStore,
  BlobTooLargeError,
  type CID,
  cidForRaw,
  sniffMimeType,
  type TempBlob,
} from '@next-atproto/core'

export { BlobTooLargeError }

/** Blob bytes in memory (tests, demos): one process, lost on restart. */
export class MemoryBlobStore implements BlobStore {
  readonly #temp = new Map<string, { bytes: Uint8Array; cid: CID; createdAt: number }>()
  readonly #permanent = new Map<string, Uint8Array>()

  async putTemp(body: ReadableStream<Uint8Array>, opts: { maxSize?: number } = {}): Promise<TempBlob> {
    const chunks: Uint8Array[] = []
    let size = 0
    const reader = body.getReader()
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        size += value.byteLength
        if (opts.maxSize !== undefined && size > opts.maxSize) throw new BlobTooLargeError(opts.maxSize)
        chunks.push(value)
      }
    } catch (err) {
      await reader.cancel().catch(() => {})
      throw err
    }
    const bytes = Buffer.concat(chunks)
    const key = randomUUID()
    const cid = cidForRaw(bytes)
    this.#temp.set(key, { bytes, cid, createdAt: Date.now() })
    return { key, size, cid, mimeType: sniffMimeType(bytes.subarray(0, 16)) }
  }

  async makePermanent(key: string, cid: CID): Promise<void> {
    const temp = this.#temp.get(key)
    if (temp && !temp.cid.equals(cid))
      throw new BlobNotFoundError(`temporary blob ${key} does not hold ${cid}`)
    this.#temp.delete(key)
    if (this.#permanent.has(cid.toString())) return
    if (!temp) throw new BlobNotFoundError(`no temporary blob ${key} for ${cid}`)
    this.#permanent.set(cid.toString(), temp.bytes)
  }

  async hasTemp(key: string): Promise<boolean> {
    return this.#temp.has(key)
  }

  async cleanupTemp(before: Date): Promise<number> {
    let n = 0
    for (const [key, t] of this.#temp) {
      if (t.createdAt < before.getTime()) {
        this.#temp.delete(key)
        n++
      }
    }
    return n
  }

  async get(cid: CID, range?: { start: number; end?: number }) {
    const bytes = this.#permanent.get(cid.toString())
    if (!bytes) return null
    const slice = range ? bytes.subarray(range.start, (range.end ?? bytes.length - 1) + 1) : bytes
    return {
      size: bytes.byteLength,
      stream: new ReadableStream<Uint8Array>({
        start(controller) {
          if (slice.byteLength > 0) controller.enqueue(slice.slice())
          controller.close()
        },
      }),
    }
  }

  async deleteTemp(key: string): Promise<void> {
    this.#temp.delete(key)
  }

  async delete(cids: CID[]): Promise<void> {
    for (const cid of cids) this.#permanent.delete(cid.toString())
  }

  /** Take the objects out, check, put back what became referenced meanwhile (see the interface). */
  async deleteUnreferenced(cids: CID[], check: (cids: CID[]) => Promise<CID[]>): Promise<CID[]> {
    const aside = new Map<string, { cid: CID; bytes: Uint8Array }>()
    for (const cid of cids) {
      const bytes = this.#permanent.get(cid.toString())
      if (!bytes) continue
      this.#permanent.delete(cid.toString())
      aside.set(cid.toString(), { cid, bytes })
    }
    if (aside.size === 0) return []
    let free: Set<string>
    try {
      free = new Set((await check([...aside.values()].map((a) => a.cid))).map((c) => c.toString()))
    } catch (err) {
      for (const [key, { bytes }] of aside) this.#permanent.set(key, bytes)
      throw err
    }
    const deleted: CID[] = []
    for (const [key, { cid, bytes }] of aside) {
      if (free.has(key)) deleted.push(cid)
      else this.#permanent.set(key, bytes) // same bytes as any copy stored meanwhile
    }
    return deleted
  }
}
