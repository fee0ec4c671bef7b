/**
 * secp256k1 signing with precomputed nonces.
 *
 * An ECDSA signature is r = x(k·G) mod n, s = k⁻¹·(z + r·d) mod n. The point multiplication k·G is
 * nearly all of the cost (about 0.4 ms with OpenSSL here: as much as node:crypto's whole sign), and it
 * depends on neither the message nor the key. So a worker thread computes (k⁻¹, r) pairs ahead of
 * time, and a signature on the request path (every repo commit signs one) is a few bigint products.
 * With no pair at hand (start-up, a burst longer than the pool, no worker threads, an OpenSSL without
 * secp256k1) the caller signs the usual way.
 *
 * Why this is as safe as signing in one go: k is uniform in [1, n-1] from the CSPRNG (out-of-range
 * draws are rejected, not reduced); each pair is taken out of the pool exactly once, by synchronous
 * code on one thread, so no two signatures can share a nonce; pairs never leave the process. The
 * signing step is the same bigint arithmetic noble's `sign` does (and the reference PDS signs with
 * noble).
 */
import { createHash } from 'node:crypto'
import { Worker } from 'node:worker_threads'
import { bigIntTo32, K256 } from './curves.js'

/** Pairs asked of the worker at a time, and the level under which the pool asks for more. */
const BATCH = 128
const LOW = 128

// The worker computes k·G with OpenSSL (ECDH derives the public point of a private scalar) and k⁻¹ by
// the extended Euclidean algorithm; it posts [k⁻¹, r, k⁻¹, r, …] as bigints.
const WORKER = `
const { parentPort } = require('node:worker_threads')
const { createECDH, randomBytes } = require('node:crypto')
const n = ${K256.n}n
const ecdh = createECDH('secp256k1')
const big = (b) => BigInt('0x' + b.toString('hex'))
function invert(a) {
  let r0 = n, r1 = a, s0 = 0n, s1 = 1n
  while (r1 !== 0n) {
    const q = r0 / r1
    ;[r0, r1] = [r1, r0 - q * r1]
    ;[s0, s1] = [s1, s0 - q * s1]
  }
  return ((s0 % n) + n) % n
}
parentPort.on('message', (count) => {
  const out = []
  while (out.length < 2 * count) {
    const kb = randomBytes(32)
    const k = big(kb)
    if (k === 0n || k >= n) continue
    ecdh.setPrivateKey(kb)
    const r = big(ecdh.getPublicKey().subarray(1, 33)) % n
    if (r === 0n) continue
    out.push(invert(k), r)
  }
  parentPort.postMessage(out)
})
`

class NoncePool {
  /** undefined: not started yet; null: unavailable (no worker threads, no secp256k1 in OpenSSL). */
  #worker: Worker | null | undefined
  #pairs: bigint[] = []
  #asked = false

  /** Take one (k⁻¹, r) pair, or null when none is ready; asks the worker for more when running low. */
  take(): [bigint, bigint] | null {
    if (this.#worker === undefined) this.#start()
    const pairs = this.#pairs
    if (pairs.length < 2 * LOW) this.#ask()
    if (pairs.length < 2) return null
    const r = pairs.pop()!
    const kInv = pairs.pop()!
    return [kInv, r]
  }

  #start(): void {
    this.#worker = null
    try {
      const worker = new Worker(WORKER, { eval: true })
      worker.on('message', (pairs: bigint[]) => {
        this.#asked = false
        for (const p of pairs) this.#pairs.push(p)
      })
      const stop = () => {
        this.#worker = null
        this.#asked = false
      }
      worker.on('error', stop)
      worker.on('exit', stop)
      worker.unref() // never what keeps a process alive (after the listeners, which would ref it again)
      this.#worker = worker
    } catch {
      // Worker threads unavailable: every signature takes the usual path.
    }
  }

  #ask(): void {
    if (this.#asked || !this.#worker) return
    this.#asked = true
    this.#worker.postMessage(BATCH)
  }

  /** Pairs ready now (tests). */
  get size(): number {
    return this.#pairs.length / 2
  }
}

// One pool per process, kept on globalThis: a module evaluated again (two copies of the package, a
// dev server's hot reload) reuses its worker instead of starting another. Versioned: another shape of
// the pool would get its own key.
const POOL = Symbol.for('next-atproto.crypto.nonce-pool.v1')
const pool: NoncePool = ((globalThis as { [POOL]?: NoncePool })[POOL] ??= new NoncePool())

/**
 * Sign `msg` (sha-256 prehash) with private scalar `d` on secp256k1 using a precomputed nonce: the
 * 64-byte compact low-S signature, or null when no nonce is ready (sign the usual way then).
 */
export function signK256Precomputed(d: bigint, msg: Uint8Array): Uint8Array | null {
  const pair = pool.take()
  if (!pair) return null
  const z = BigInt(`0x${createHash('sha256').update(msg).digest('hex')}`)
  return signWithNonce(d, z, pair[0], pair[1])
}

/**
 * The ECDSA signing equation with a given nonce: s = k⁻¹·(z + r·d) mod n, folded to low-S. Null in the
 * (astronomically rare) case s = 0, where a signature needs another nonce.
 */
export function signWithNonce(d: bigint, z: bigint, kInv: bigint, r: bigint): Uint8Array | null {
  const { n, halfN } = K256
  let s = (kInv * ((z + r * d) % n)) % n
  if (s === 0n) return null
  if (s > halfN) s = n - s
  const out = new Uint8Array(64)
  out.set(bigIntTo32(r))
  out.set(bigIntTo32(s), 32)
  return out
}

/** Precomputed nonces ready now (tests and diagnostics). */
export function precomputedNonces(): number {
  return pool.size
}
