import { decodeCbor, encodeCbor } from '../data/cbor.js'
import { CID, DAG_CBOR, RAW, SHA2_256 } from '../data/cid.js'
import { BlockMap } from './block-map.js'
import { CarError } from './errors.js'
import { sha256Fast } from './mst-node.js'

/** One CAR block. */
export interface CarBlock {
  cid: CID
  bytes: Uint8Array
}

/** A byte source for the CAR reader. */
export type ByteSource =
  | Uint8Array
  | Iterable<Uint8Array>
  | AsyncIterable<Uint8Array>
  | ReadableStream<Uint8Array>

/** Limits and checks of the CAR reader. */
export interface ReadCarOptions {
  /** Largest accepted block section (CID + data), default 4 MiB. */
  maxBlockSize?: number
  /** Largest accepted header, default 64 KiB. */
  maxHeaderSize?: number
  /** Hash every block and compare with its CID (default true). */
  verifyCids?: boolean
  /**
   * Largest accepted CAR in total, counted as bytes arrive (default unlimited: repo exports can be any
   * size). A firehose `blocks` slice, for one, is at most 2,000,000 bytes (sync.md).
   */
  maxSize?: number
}

const DEFAULT_MAX_BLOCK = 4 * 1024 * 1024
const DEFAULT_MAX_HEADER = 64 * 1024
const CHUNK = 64 * 1024

// --- writer

function varint(n: number): Uint8Array {
  const out: number[] = []
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80)
    n = Math.floor(n / 0x80)
  }
  out.push(n)
  return Uint8Array.from(out)
}

/** Bytes of a CARv1 header naming `roots`. */
export function encodeCarHeader(roots: readonly CID[]): Uint8Array {
  const header = encodeCbor({ version: 1, roots: [...roots] })
  const len = varint(header.length)
  const out = new Uint8Array(len.length + header.length)
  out.set(len)
  out.set(header, len.length)
  return out
}

/**
 * Stream a CARv1: the header, then each block as it arrives. Output is coalesced into ~64 KiB
 * chunks (fewer, larger writes) and memory stays independent of the CAR's size.
 */
export async function* writeCar(
  roots: readonly CID[],
  blocks: Iterable<CarBlock> | AsyncIterable<CarBlock>,
): AsyncGenerator<Uint8Array> {
  let buf = new Uint8Array(CHUNK)
  let pos = 0
  const put = (bytes: Uint8Array): Uint8Array | null => {
    let flushed: Uint8Array | null = null
    if (pos + bytes.length > buf.length) {
      flushed = buf.subarray(0, pos)
      buf = new Uint8Array(Math.max(CHUNK, bytes.length))
      pos = 0
    }
    buf.set(bytes, pos)
    pos += bytes.length
    return flushed
  }
  put(encodeCarHeader(roots))
  for await (const { cid, bytes } of blocks) {
    const cidBytes = cid.bytes
    for (const part of [varint(cidBytes.length + bytes.length), cidBytes, bytes]) {
      const full = put(part)
      if (full) yield full
    }
  }
  if (pos > 0) yield buf.subarray(0, pos)
}

/** Wrap a chunk generator as a Web ReadableStream (pull-based, so backpressure reaches the walk). */
export function toReadableStream(chunks: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const it = chunks[Symbol.asyncIterator]()
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await it.next()
      if (done) controller.close()
      else controller.enqueue(value)
    },
    async cancel() {
      await it.return?.()
    },
  })
}

/** A whole CAR in memory from a block map. */
export async function blocksToCarFile(root: CID | null, blocks: BlockMap): Promise<Uint8Array> {
  return concat(
    await collect(
      writeCar(
        root ? [root] : [],
        blocks.cids().map((cid) => ({ cid, bytes: blocks.get(cid)! })),
      ),
    ),
  )
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for await (const c of it) out.push(c.slice())
  return out
}

/** One array holding `chunks` back to back. */
export function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0))
  let pos = 0
  for (const c of chunks) {
    out.set(c, pos)
    pos += c.length
  }
  return out
}

// --- reader

/** Chunks not yet consumed, read across chunk boundaries. */
class ByteQueue {
  private chunks: Uint8Array[] = []
  private offset = 0
  available = 0

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return
    this.chunks.push(chunk)
    this.available += chunk.length
  }

  /** The unsigned varint at the head: null if more bytes are needed; throws on overflow. */
  peekVarint(): { value: number; size: number } | null {
    let value = 0
    let mul = 1
    let ci = 0
    let off = this.offset
    for (let size = 1; size <= 8; size++) {
      while (ci < this.chunks.length && off >= this.chunks[ci].length) {
        ci++
        off = 0
      }
      if (ci >= this.chunks.length) return null
      const b = this.chunks[ci][off++]
      value += (b & 0x7f) * mul
      if (b < 0x80) {
        if (size > 1 && b === 0) throw new CarError('varint is not minimally encoded')
        return { value, size }
      }
      mul *= 0x80
    }
    throw new CarError('varint too long (overflow)')
  }

  /** Consume `n` bytes (zero-copy when they sit in one chunk). */
  take(n: number): Uint8Array {
    const head = this.chunks[0]
    let out: Uint8Array
    if (head.length - this.offset >= n) {
      out = head.subarray(this.offset, this.offset + n)
      this.offset += n
    } else {
      out = new Uint8Array(n)
      let pos = 0
      while (pos < n) {
        const c = this.chunks[0]
        const k = Math.min(n - pos, c.length - this.offset)
        out.set(c.subarray(this.offset, this.offset + k), pos)
        pos += k
        this.offset += k
        if (this.offset === c.length) {
          this.chunks.shift()
          this.offset = 0
        }
      }
    }
    if (this.chunks.length > 0 && this.offset === this.chunks[0].length) {
      this.chunks.shift()
      this.offset = 0
    }
    this.available -= n
    return out
  }

  /** Consume a length-prefixed section: null if not fully buffered yet. */
  section(max: number, what: string): Uint8Array | null {
    const len = this.peekVarint()
    if (len === null) return null
    if (len.value === 0) throw new CarError(`empty ${what}`)
    if (len.value > max) throw new CarError(`${what} of ${len.value} bytes exceeds the ${max} byte limit`)
    if (this.available < len.size + len.value) return null
    this.take(len.size)
    return this.take(len.value)
  }
}

/** Incremental CARv1 parser: feed chunks, pull header and blocks as they become complete. */
class CarParser {
  readonly queue = new ByteQueue()
  private received = 0
  private readonly maxSize: number
  roots: CID[] | null = null
  private readonly maxBlock: number
  private readonly maxHeader: number
  private readonly verify: boolean

  constructor(opts: ReadCarOptions = {}) {
    this.maxBlock = opts.maxBlockSize ?? DEFAULT_MAX_BLOCK
    this.maxHeader = opts.maxHeaderSize ?? DEFAULT_MAX_HEADER
    this.verify = opts.verifyCids ?? true
    this.maxSize = opts.maxSize ?? Number.POSITIVE_INFINITY
  }

  /** Queue a chunk, refusing the CAR once it grows past `maxSize`. */
  push(chunk: Uint8Array): void {
    this.received += chunk.length
    if (this.received > this.maxSize) throw new CarError(`CAR exceeds the ${this.maxSize} byte limit`)
    this.queue.push(chunk)
  }

  header(): CID[] | null {
    const bytes = this.queue.section(this.maxHeader, 'CAR header')
    if (bytes === null) return null
    let header: any
    try {
      header = decodeCbor(bytes, { maxSize: this.maxHeader })
    } catch (err) {
      throw new CarError(`CAR header is not valid DAG-CBOR: ${(err as Error).message}`, { cause: err })
    }
    if (
      typeof header !== 'object' ||
      header === null ||
      header.version !== 1 ||
      !Array.isArray(header.roots)
    ) {
      throw new CarError('CAR header must be {version: 1, roots: [...]}')
    }
    const roots = header.roots.map((r: unknown) => {
      const cid = CID.asCID(r)
      if (!cid) throw new CarError('CAR header root is not a CID')
      return cid
    })
    this.roots = roots
    return roots
  }

  block(): CarBlock | null {
    const section = this.queue.section(this.maxBlock, 'CAR block')
    if (section === null) return null
    const { cid, size } = parseCid(section)
    const bytes = section.subarray(size)
    if (this.verify) {
      const digest = cid.multihash.digest
      const actual = sha256Fast(bytes)
      if (actual.length !== digest.length || actual.some((b, i) => b !== digest[i])) {
        throw new CarError(`block bytes do not hash to their CID ${cid}`)
      }
    }
    return { cid, bytes }
  }
}

function readVarintAt(bytes: Uint8Array, pos: number): [number, number] {
  let value = 0
  let mul = 1
  for (let i = 0; i < 8; i++) {
    if (pos + i >= bytes.length) throw new CarError('truncated CID in block')
    const b = bytes[pos + i]
    value += (b & 0x7f) * mul
    if (b < 0x80) return [value, pos + i + 1]
    mul *= 0x80
  }
  throw new CarError('varint too long in CID')
}

/**
 * CID at the start of a block section, and its byte length. Only the CIDs atproto allows are accepted:
 * v1, dag-cbor or raw, sha-256 (data-model.md).
 */
function parseCid(section: Uint8Array): { cid: CID; size: number } {
  const [version, p1] = readVarintAt(section, 0)
  if (version !== 1) throw new CarError(`unsupported CID version ${version} (only CIDv1)`)
  const [codec, p2] = readVarintAt(section, p1)
  if (codec !== DAG_CBOR && codec !== RAW)
    throw new CarError(`unsupported CID codec 0x${codec.toString(16)} (only dag-cbor and raw)`)
  const [hashCode, p3] = readVarintAt(section, p2)
  const [digestLen, p4] = readVarintAt(section, p3)
  if (hashCode !== SHA2_256 || digestLen !== 32)
    throw new CarError('unsupported CID hash (only sha-256 is accepted)')
  const end = p4 + digestLen
  if (end > section.length) throw new CarError('truncated CID in block')
  try {
    return { cid: CID.decode(section.slice(0, end)), size: end }
  } catch (err) {
    throw new CarError(`invalid CID in block: ${(err as Error).message}`)
  }
}

async function* chunksOf(source: ByteSource): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    yield source
  } else if (typeof (source as ReadableStream).getReader === 'function') {
    const reader = (source as ReadableStream<Uint8Array>).getReader()
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return
        yield value
      }
    } finally {
      reader.releaseLock()
    }
  } else {
    yield* source as AsyncIterable<Uint8Array>
  }
}

/**
 * Read a CARv1 from a byte stream: resolves once the header is read, then yields blocks as they
 * complete, hashing each against its CID. Malformed input throws {@link CarError}.
 */
export async function readCarStream(
  source: ByteSource,
  opts?: ReadCarOptions,
): Promise<{ roots: CID[]; blocks: AsyncGenerator<CarBlock> }> {
  const parser = new CarParser(opts)
  const chunks = chunksOf(source)
  let roots = parser.header()
  let done = false
  while (roots === null) {
    const next = await chunks.next()
    if (next.done) throw new CarError('truncated CAR header')
    parser.push(next.value)
    roots = parser.header()
  }
  async function* blocks(): AsyncGenerator<CarBlock> {
    for (;;) {
      const block = parser.block()
      if (block) {
        yield block
        continue
      }
      if (done) {
        if (parser.queue.available > 0) throw new CarError('truncated CAR block')
        return
      }
      const next = await chunks.next()
      if (next.done) done = true
      else parser.push(next.value)
    }
  }
  return { roots, blocks: blocks() }
}

/** Read a whole in-memory CAR synchronously (firehose slices, small CARs). */
export function readCarBytes(bytes: Uint8Array, opts?: ReadCarOptions): { roots: CID[]; blocks: BlockMap } {
  const parser = new CarParser(opts)
  parser.push(bytes)
  const roots = parser.header()
  if (roots === null) throw new CarError('truncated CAR header')
  const blocks = new BlockMap()
  for (;;) {
    const block = parser.block()
    if (block) blocks.set(block.cid, block.bytes)
    else if (parser.queue.available > 0) throw new CarError('truncated CAR block')
    else return { roots, blocks }
  }
}

/** Read every block of a CAR stream into a map. */
export async function readCar(
  source: ByteSource,
  opts?: ReadCarOptions,
): Promise<{ roots: CID[]; blocks: BlockMap }> {
  if (source instanceof Uint8Array) return readCarBytes(source, opts)
  const { roots, blocks } = await readCarStream(source, opts)
  const map = new BlockMap()
  for await (const b of blocks) map.set(b.cid, b.bytes)
  return { roots, blocks: map }
}
