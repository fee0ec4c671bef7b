// Child process of bench/pds.mjs: the reference PDS (@atproto/pds from bench/reference-pds) on loopback.
// argv: <port> <dataDir> <plcUrl>. Prints "ready <url>" when it serves.
// @atproto/pds declares Node >= 22; small shims let it run on Node 20 for the benchmark:
// - ES2025 iterator helpers (it calls .map/.filter/.toArray on iterators),
// - the zstd functions undici 8 imports from node:zlib (its cache store and zstd responses: unused here),
//   and worker_threads.markAsUncloneable.
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import workerThreads from 'node:worker_threads'
import zlib from 'node:zlib'

installIteratorHelpers()
// Node 22's worker_threads.markAsUncloneable (undici marks its web objects with it): a no-op is enough.
workerThreads.markAsUncloneable ??= () => {}
if (typeof zlib.zstdCompressSync !== 'function') {
  const missing = () => {
    throw new Error('zstd is not available on this Node version')
  }
  zlib.zstdCompressSync = missing
  zlib.zstdDecompressSync = missing
  zlib.createZstdDecompress = missing
  zlib.createZstdCompress = missing
}

const [port, dataDir, plcUrl] = process.argv.slice(2)
const require = createRequire(path.join(path.dirname(new URL(import.meta.url).pathname), '../reference-pds/'))
const { PDS, envToCfg, envToSecrets, readEnv } = await import(require.resolve('@atproto/pds'))

fs.mkdirSync(dataDir, { recursive: true })
Object.assign(process.env, {
  PDS_PORT: port,
  PDS_HOSTNAME: 'localhost',
  PDS_DEV_MODE: 'true',
  PDS_DATA_DIRECTORY: dataDir,
  PDS_BLOBSTORE_DISK_LOCATION: path.join(dataDir, 'blobs'),
  PDS_JWT_SECRET: 'bench-jwt-secret',
  PDS_ADMIN_PASSWORD: 'bench-admin',
  PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: '1'.repeat(64),
  PDS_DID_PLC_URL: plcUrl,
  PDS_SERVICE_HANDLE_DOMAINS: '.test',
  PDS_INVITE_REQUIRED: 'false',
  PDS_RATE_LIMITS_ENABLED: 'false',
  PDS_DISABLE_SSRF_PROTECTION: 'true',
  PDS_CRAWLERS: '',
  LOG_ENABLED: 'false',
})
const env = readEnv()
const pds = await PDS.create(envToCfg(env), envToSecrets(env))
await pds.start()
console.log(`ready http://localhost:${port}`)
process.on('SIGTERM', async () => {
  await pds.destroy().catch(() => {})
  process.exit(0)
})

/** Iterator.prototype.{map,filter,take,drop,flatMap,reduce,toArray,forEach,some,every,find} (ES2025). */
function installIteratorHelpers() {
  const IteratorProto = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()))
  if (typeof IteratorProto.map === 'function') return
  const define = (name, fn) =>
    Object.defineProperty(IteratorProto, name, { value: fn, writable: true, configurable: true })
  define('map', function* (f) {
    let i = 0
    for (const v of { [Symbol.iterator]: () => this }) yield f(v, i++)
  })
  define('filter', function* (f) {
    let i = 0
    for (const v of { [Symbol.iterator]: () => this }) if (f(v, i++)) yield v
  })
  define('flatMap', function* (f) {
    let i = 0
    for (const v of { [Symbol.iterator]: () => this }) yield* f(v, i++)
  })
  define('take', function* (n) {
    if (n <= 0) return
    let i = 0
    for (const v of { [Symbol.iterator]: () => this }) {
      yield v
      if (++i >= n) return
    }
  })
  define('drop', function* (n) {
    let i = 0
    for (const v of { [Symbol.iterator]: () => this }) if (i++ >= n) yield v
  })
  define('toArray', function () {
    return [...{ [Symbol.iterator]: () => this }]
  })
  define('forEach', function (f) {
    let i = 0
    for (const v of { [Symbol.iterator]: () => this }) f(v, i++)
  })
  define('reduce', function (f, ...init) {
    let i = 0
    let acc = init.length ? init[0] : undefined
    let first = !init.length
    for (const v of { [Symbol.iterator]: () => this }) {
      if (first) {
        acc = v
        first = false
      } else acc = f(acc, v, i)
      i++
    }
    return acc
  })
  define('some', function (f) {
    let i = 0
    for (const v of { [Symbol.iterator]: () => this }) if (f(v, i++)) return true
    return false
  })
  define('every', function (f) {
    let i = 0
    for (const v of { [Symbol.iterator]: () => this }) if (!f(v, i++)) return false
    return true
  })
  define('find', function (f) {
    let i = 0
    for (const v of { [Symbol.iterator]: () => this }) if (f(v, i++)) return v
    return undefined
  })
  if (typeof globalThis.Iterator === 'undefined') {
    globalThis.Iterator = { prototype: IteratorProto, from: (it) => it[Symbol.iterator]?.() ?? it }
  }
}
