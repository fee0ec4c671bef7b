/**
 * Blobs on local disk. Uploads stream into `tmp/` while being hashed (memory stays flat whatever the
 * size), then move by atomic rename to `blobs/<shard>/<cid>` once a record references them. Garbage
 * collection moves files into `trash/` before its last check (see `deleteUnreferenced`).
 */
import { createHash, randomUUID } from 'node:crypto'
import { type FileHandle, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import {
  BlobNotFoundError,
  type BlobStore,
  BlobTooLargeError,
  CID,
  RAW,
  sniffMimeType,
  type TempBlob,
} from '@next-atproto/core'

/** Options of {@link DiskBlobStore}. */
export interface DiskBlobStoreOptions {
  /** Root folder; `tmp/` and `blobs/` are created under it. */
  location: string
  /**
   * fsync each upload before reporting it stored (default true), so a crash cannot leave a truncated
   * file under a valid CID. Tests may turn it off for speed.
   */
  fsync?: boolean
  /** Bytes read per chunk when streaming out (default 64 KiB). */
  readChunkSize?: number
}

/** CIDv1 prefix for raw + sha2-256 (all single-byte varints): version, codec, hash code, length. */
const RAW_SHA256_PREFIX = [0x01, RAW, 0x12, 0x20] as const
/**
 * Temp keys are ours, `<random uuid>.<cid>` (anything else could be a path traversal attempt). The CID
 * in the key lets makePermanent refuse a mismatched CID without re-hashing the file.
 */
const TEMP_KEY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.b[a-z2-7]+$/

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT'

/** A {@link BlobStore} on the local file system (one host; use an S3-style store for several). */
export class DiskBlobStore implements BlobStore {
  readonly #tmp: string
  readonly #blobs: string
  readonly #trash: string
  readonly #fsync: boolean
  readonly #chunk: number

  constructor(options: DiskBlobStoreOptions) {
    this.#tmp = join(options.location, 'tmp')
    this.#blobs = join(options.location, 'blobs')
    this.#trash = join(options.location, 'trash')
    this.#fsync = options.fsync ?? true
    this.#chunk = options.readChunkSize ?? 65_536
  }

  /** Permanent path: sharded by the CID's last two characters (random, unlike its `bafkrei` prefix). */
  #path(cid: CID): string {
    const s = cid.toString()
    return join(this.#blobs, s.slice(-2), s)
  }

  #tempPath(key: string): string | null {
    return TEMP_KEY.test(key) ? join(this.#tmp, key) : null
  }

  async putTemp(body: ReadableStream<Uint8Array>, opts: { maxSize?: number } = {}): Promise<TempBlob> {
    await mkdir(this.#tmp, { recursive: true })
    // Written as `<uuid>.part`, renamed to its key once complete: a crash leaves only `.part` files.
    const id = randomUUID()
    const path = join(this.#tmp, `${id}.part`)
    const hash = createHash('sha256')
    const head: Uint8Array[] = []
    let size = 0
    const reader = body.getReader()
    const file = await open(path, 'wx')
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        size += value.byteLength
        if (opts.maxSize !== undefined && size > opts.maxSize) throw new BlobTooLargeError(opts.maxSize)
        if (size - value.byteLength < 16) head.push(value.subarray(0, 16))
        hash.update(value)
        // Sequential writes: the next read waits for this one, which is the backpressure.
        await writeAll(file, value)
      }
      if (this.#fsync) await file.datasync()
      await file.close()
    } catch (err) {
      await reader.cancel().catch(() => {})
      await file.close().catch(() => {})
      await rm(path, { force: true })
      throw err
    }
    const digest = hash.digest()
    const cid = CID.decode(Uint8Array.of(...RAW_SHA256_PREFIX, ...digest))
    const key = `${id}.${cid.toString()}`
    await rename(path, join(this.#tmp, key))
    return { key, size, cid, mimeType: sniffMimeType(Buffer.concat(head).subarray(0, 16)) }
  }

  /** Rename the temp file into place; `cid` must be the one `putTemp` returned for `key`. */
  async makePermanent(key: string, cid: CID): Promise<void> {
    const temp = this.#tempPath(key)
    if (temp && !key.endsWith(`.${cid.toString()}`)) {
      throw new BlobNotFoundError(`temporary blob ${key} does not hold ${cid}`)
    }
    const target = this.#path(cid)
    if (await exists(target)) {
      // Same bytes uploaded twice: keep the existing file, drop the new copy.
      if (temp) await rm(temp, { force: true })
      return
    }
    if (!temp) throw new BlobNotFoundError(`invalid temporary blob key ${key}`)
    await mkdir(join(target, '..'), { recursive: true })
    try {
      await rename(temp, target)
    } catch (err) {
      if (!isMissing(err)) throw err
      // A concurrent makePermanent of the same CID may have won the race with its own copy.
      if (!(await exists(target))) throw new BlobNotFoundError(`no temporary blob ${key} for ${cid}`)
    }
  }

  async hasTemp(key: string): Promise<boolean> {
    const temp = this.#tempPath(key)
    return temp !== null && exists(temp)
  }

  async cleanupTemp(before: Date): Promise<number> {
    const names = await listDir(this.#tmp)
    let n = 0
    for (const name of names) {
      const path = join(this.#tmp, name)
      try {
        if ((await stat(path)).mtime < before) {
          await rm(path, { force: true })
          n++
        }
      } catch (err) {
        if (!isMissing(err)) throw err // made permanent meanwhile
      }
    }
    return n
  }

  async get(
    cid: CID,
    range?: { start: number; end?: number },
  ): Promise<{ stream: ReadableStream<Uint8Array>; size: number } | null> {
    let file: FileHandle
    try {
      // Open first, then stat the handle: a concurrent delete cannot split the two.
      file = await open(this.#path(cid), 'r')
    } catch (err) {
      if (isMissing(err)) return null
      throw err
    }
    const size = (await file.stat()).size
    let position = Math.max(0, range?.start ?? 0)
    const end = Math.min(size, range?.end === undefined ? size : range.end + 1)
    const chunk = this.#chunk
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const want = Math.min(chunk, end - position)
          if (want <= 0) {
            await file.close()
            controller.close()
            return
          }
          const buf = new Uint8Array(want)
          const { bytesRead } = await file.read(buf, 0, want, position)
          if (bytesRead === 0) {
            await file.close()
            controller.close()
            return
          }
          position += bytesRead
          controller.enqueue(buf.subarray(0, bytesRead))
        } catch (err) {
          await file.close().catch(() => {})
          controller.error(err)
        }
      },
      async cancel() {
        await file.close().catch(() => {})
      },
    })
    return { stream, size }
  }

  async deleteTemp(key: string): Promise<void> {
    const temp = this.#tempPath(key)
    if (temp) await rm(temp, { force: true })
  }

  async delete(cids: CID[]): Promise<void> {
    await Promise.all(cids.map((cid) => rm(this.#path(cid), { force: true })))
  }

  /**
   * Move the files aside into `trash/<time>.<uuid>.<cid>` (one atomic rename each), check, then delete
   * or rename back (same bytes, so replacing a copy stored meanwhile is harmless). Files left in the
   * trash by an interrupted call are settled once they are older than any call in progress could be.
   */
  async deleteUnreferenced(cids: CID[], check: (cids: CID[]) => Promise<CID[]>): Promise<CID[]> {
    const aside: Array<{ cid: CID; path: string }> = await this.#leftovers(Date.now() - LEFTOVER_MS)
    if (cids.length > 0) await mkdir(this.#trash, { recursive: true })
    for (const cid of cids) {
      const path = join(this.#trash, `${Date.now()}.${randomUUID()}.${cid.toString()}`)
      try {
        await rename(this.#path(cid), path)
        aside.push({ cid, path })
      } catch (err) {
        if (!isMissing(err)) throw err // nothing stored under this CID
      }
    }
    if (aside.length === 0) return []
    let free: Set<string>
    try {
      free = new Set((await check(aside.map((a) => a.cid))).map((c) => c.toString()))
    } catch (err) {
      free = new Set() // could not check: everything goes back
      await this.#settle(aside, free).catch(() => {})
      throw err
    }
    return this.#settle(aside, free)
  }

  async #settle(aside: Array<{ cid: CID; path: string }>, free: Set<string>): Promise<CID[]> {
    const deleted: CID[] = []
    for (const { cid, path } of aside) {
      try {
        if (free.has(cid.toString())) {
          await rm(path)
          deleted.push(cid)
        } else {
          const target = this.#path(cid)
          await mkdir(join(target, '..'), { recursive: true })
          await rename(path, target)
        }
      } catch (err) {
        if (!isMissing(err)) throw err // settled meanwhile by another process's collector
      }
    }
    return deleted
  }

  /** Trash files written before `before` (by a call that never finished). */
  async #leftovers(before: number): Promise<Array<{ cid: CID; path: string }>> {
    const names = await listDir(this.#trash)
    const out: Array<{ cid: CID; path: string }> = []
    for (const name of names) {
      const m = TRASH_NAME.exec(name)
      if (!m || Number(m[1]) >= before) continue
      try {
        out.push({ cid: CID.parse(m[2]!), path: join(this.#trash, name) })
      } catch {
        // not one of ours
      }
    }
    return out
  }
}

/** `<ms>.<uuid>.<cid>` */
const TRASH_NAME = /^(\d+)\.[0-9a-f-]{36}\.(b[a-z2-7]+)$/
/** Age after which a trash file is an interrupted collection's, not one in progress. */
const LEFTOVER_MS = 10 * 60_000

/** The names in a folder; none when it does not exist (yet). */
async function listDir(path: string): Promise<string[]> {
  try {
    return await readdir(path)
  } catch (err) {
    if (isMissing(err)) return []
    throw err
  }
}

async function writeAll(file: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await file.write(bytes, offset, bytes.byteLength - offset)
    offset += bytesWritten
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch (err) {
    if (isMissing(err)) return false
    throw err
  }
}
