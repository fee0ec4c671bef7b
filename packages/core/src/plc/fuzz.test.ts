import { Secp256k1Keypair } from '@atproto/crypto'
import { describe, expect, it } from 'vitest'
import { createPlcDirectory } from './directory.js'
import { PlcValidationError } from './errors.js'
import { cidForOp, createAtprotoUpdateOp, createGenesisOp } from './operations.js'
import { MemoryPlcStore } from './store.js'
import { assertValidIncomingOp, assureValidNextOp } from './validate.js'

// Deterministic PRNG so a failure reproduces.
function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return seed / 0x80000000
  }
}

const WEIRD: unknown[] = [
  null,
  0,
  -1,
  1e308,
  '',
  'x',
  'did:key:z',
  [],
  {},
  [null],
  { a: 1 },
  true,
  '🦋',
  '\u0000',
]

function mutate(value: unknown, rand: () => number, depth = 0): unknown {
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]
  if (rand() < 0.15 || depth > 4) return pick(WEIRD)
  if (typeof value === 'string') {
    const r = rand()
    if (r < 0.3) return value.slice(0, Math.floor(rand() * value.length))
    if (r < 0.6) {
      const i = Math.floor(rand() * Math.max(1, value.length))
      return value.slice(0, i) + String.fromCharCode(Math.floor(rand() * 128)) + value.slice(i + 1)
    }
    return value + value
  }
  if (Array.isArray(value)) {
    const out = [...value]
    if (rand() < 0.3) out.push(pick(WEIRD))
    if (out.length && rand() < 0.5) {
      const i = Math.floor(rand() * out.length)
      out[i] = mutate(out[i], rand, depth + 1)
    }
    if (rand() < 0.2) out.pop()
    return out
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = { ...(value as Record<string, unknown>) }
    const keys = Object.keys(out)
    const r = rand()
    if (r < 0.15) delete out[pick(keys)]
    else if (r < 0.3) out[pick(['extra', '__proto__', 'constructor', 'sig', 'type'])] = pick(WEIRD)
    else if (keys.length) {
      const k = pick(keys)
      out[k] = mutate(out[k], rand, depth + 1)
    }
    return out
  }
  return pick(WEIRD)
}

describe('PLC fuzz', () => {
  it('2,500 mutated ops raise only PlcValidationError (validator and directory)', async () => {
    const key = await Secp256k1Keypair.create()
    const g = await createGenesisOp({
      signingKey: key.did(),
      handle: 'fuzz.test',
      pds: 'https://pds.test',
      rotationKeys: [key.did()],
      signer: key,
    })
    const update = await createAtprotoUpdateOp(g.op, key, { handle: 'fuzz2.test' })
    const log = [{ operation: g.op, cid: g.cid, createdAt: new Date(0) }]
    const dir = createPlcDirectory({ store: new MemoryPlcStore(), rateLimit: false })
    const res = await dir.fetch(
      new Request(`http://plc/${g.did}`, { method: 'POST', body: JSON.stringify(g.op) }),
    )
    expect(res.status).toBe(200)

    const rand = rng(42)
    let accepted = 0
    const counts: Record<string, number> = {}
    for (let i = 0; i < 2500; i++) {
      const base = i % 2 ? g.op : update
      let m = base as unknown
      for (let n = 1 + Math.floor(rand() * 3); n > 0; n--) m = mutate(m, rand)
      try {
        const op = assertValidIncomingOp(m)
        await assureValidNextOp(g.did, log, op, new Date(1000))
        // Only a mutation that left the signed content intact may pass.
        expect(cidForOp(op)).toBe(cidForOp(base))
        accepted++
      } catch (err) {
        if (!(err instanceof PlcValidationError))
          throw new Error(`untyped error for ${JSON.stringify(m)}: ${err}`)
        counts[err.code] = (counts[err.code] ?? 0) + 1
      }
      // Every few, push it through HTTP too: never a 500.
      if (i % 5 === 0) {
        const r = await dir.fetch(
          new Request(`http://plc/${g.did}`, { method: 'POST', body: JSON.stringify(m) }),
        )
        expect([200, 400]).toContain(r.status)
        expect(typeof ((await r.json().catch(() => ({ message: 'ok' }))) as any).message).toBe('string')
      }
    }
    expect(accepted).toBeLessThan(250)
    expect(Object.keys(counts).length).toBeGreaterThan(2)
  })
})
