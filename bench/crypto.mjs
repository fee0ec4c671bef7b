// Signature benchmarks: ours (node:crypto backend, the default), our noble backend, raw node:crypto,
// raw @noble/curves, all against @atproto/crypto side by side in one run; plus strict DAG-CBOR decode
// against @ipld/dag-cbor (the relay's other per-event cost).
// Run: npx tsc -b packages/core && node bench/crypto.mjs

import { createPublicKey, verify as nodeVerify } from 'node:crypto'
import * as ref from '@atproto/crypto'
import * as dagCbor from '@ipld/dag-cbor'
import {
  curveOf,
  Keypair,
  nobleBackend,
  parseDidKey,
  verifySignatureSync,
} from '../packages/core/dist/crypto/index.js'
import { decodeCbor, encodeCbor } from '../packages/core/dist/data/cbor.js'
import { cidForBytes } from '../packages/core/dist/data/cid.js'

const now = () => performance.now()
const fmt = (n) => (n >= 100 ? n.toFixed(0) : n.toFixed(2))
const rows = []
function row(name, ours, reference, unit) {
  rows.push({
    name,
    ours: `${fmt(ours)} ${unit}`,
    reference: `${fmt(reference)} ${unit}`,
    'ours/ref': `${(ours / reference).toFixed(2)}x`,
  })
}

/** Operations per second of `fn(i)`, run for about `ms` milliseconds after a short warm-up. */
async function rate(fn, ms = 700) {
  for (let i = 0; i < 20; i++) await fn(i)
  // Measured calls continue the index after the warm-up (fresh-key cases stay fresh).
  let n = 0
  const t0 = now()
  while (now() - t0 < ms) {
    for (let j = 0; j < 20; j++) await fn(20 + n++)
  }
  return n / ((now() - t0) / 1000)
}

const KEYS = 32
for (const [alg, label, RefKeypair] of [
  ['ES256K', 'K-256', ref.Secp256k1Keypair],
  ['ES256', 'P-256', ref.P256Keypair],
]) {
  const curve = curveOf(alg)
  // A commit-sized message per key, signed by the reference so every verifier checks the same bytes.
  const cases = []
  for (let i = 0; i < KEYS; i++) {
    const key = await RefKeypair.create({ exportable: true })
    const msg = encodeCbor({
      did: `did:plc:bench${i}`,
      version: 3,
      data: cidForBytes(new Uint8Array([i])),
      rev: '3kabcdefghij2',
      prev: null,
    })
    const sig = await key.sign(msg)
    const { keyBytes } = parseDidKey(key.did())
    const spki = new Uint8Array([...curve.spkiPrefix, ...keyBytes])
    const keyObject = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' })
    cases.push({ did: key.did(), msg, sig, keyBytes, keyObject, key })
  }
  const at = (i) => cases[i % KEYS]
  const check = (ok) => {
    if (!ok) throw new Error('a valid signature did not verify')
  }

  const refRate = await rate(async (i) => {
    const c = at(i)
    check(await ref.verifySignature(c.did, c.msg, c.sig))
  })
  const ours = await rate((i) => {
    const c = at(i)
    check(verifySignatureSync(c.did, c.msg, c.sig))
  })
  const oursNoble = await rate((i) => {
    const c = at(i)
    check(verifySignatureSync(c.did, c.msg, c.sig, { backend: nobleBackend }))
  })
  const rawNode = await rate((i) => {
    const c = at(i)
    check(nodeVerify('sha256', c.msg, { key: c.keyObject, dsaEncoding: 'ieee-p1363' }, c.sig))
  })
  const rawNoble = await rate((i) => {
    const c = at(i)
    check(curve.noble.verify(c.sig, c.msg, c.keyBytes, { prehash: true, lowS: true, format: 'compact' }))
  })
  row(`${label} verify, ours (node:crypto backend), ops/s`, ours, refRate, 'ops/s')
  row(`${label} verify, ours (noble backend), ops/s`, oursNoble, refRate, 'ops/s')
  row(`${label} verify, raw node:crypto (cached KeyObject), ops/s`, rawNode, refRate, 'ops/s')
  row(`${label} verify, raw @noble/curves, ops/s`, rawNoble, refRate, 'ops/s')

  // A relay meets keys it has not seen: fresh did:keys every time (parse, point check, key import).
  const fresh = []
  for (let i = 0; i < 1500; i++) {
    const k = Keypair.generate(alg)
    const msg = new Uint8Array([i & 255, 1, 2, 3])
    fresh.push({ did: k.did(), msg, sig: k.signSync(msg) })
  }
  const coldOurs = await rate((i) => {
    const c = fresh[i % fresh.length]
    check(verifySignatureSync(c.did, c.msg, c.sig))
  }, 150)
  const coldRef = await rate(async (i) => {
    const c = fresh[i % fresh.length]
    check(await ref.verifySignature(c.did, c.msg, c.sig))
  }, 150)
  if (coldOurs * 0.15 > fresh.length - 40)
    console.warn('fresh-key pool too small: some verifies hit a warm cache')
  row(`${label} verify, a new key every time, ops/s`, coldOurs, coldRef, 'ops/s')

  const signer = Keypair.fromPrivateBytes(alg, await cases[0].key.export())
  const signOurs = await rate(() => signer.signSync(cases[0].msg))
  const signRef = await rate(() => cases[0].key.sign(cases[0].msg))
  row(`${label} sign, ops/s`, signOurs, signRef, 'ops/s')
}

// Strict DAG-CBOR decode (every check of the data model) vs @ipld/dag-cbor's decode.
{
  const post = encodeCbor({
    $type: 'app.bsky.feed.post',
    text: 'a post of ordinary length, with a few words in it and an emoji 🙂',
    createdAt: '2024-01-01T00:00:00.000Z',
    langs: ['en'],
    reply: {
      root: {
        uri: 'at://did:plc:abc/app.bsky.feed.post/3k2a',
        cid: 'bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a',
      },
      parent: {
        uri: 'at://did:plc:abc/app.bsky.feed.post/3k2b',
        cid: 'bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a',
      },
    },
  })
  const node = encodeCbor({
    e: Array.from({ length: 8 }, (_, i) => ({
      k: new TextEncoder().encode(`app.bsky.feed.post/3k${i}abcdefgh`),
      p: i ? 19 : 0,
      t: i % 2 ? cidForBytes(new Uint8Array([i])) : null,
      v: cidForBytes(new Uint8Array([i, 1])),
    })),
    l: null,
  })
  for (const [name, bytes] of [
    [`record (${post.length} B)`, post],
    [`MST node (${node.length} B)`, node],
  ]) {
    const ours = await rate(() => decodeCbor(bytes), 500)
    const theirs = await rate(() => dagCbor.decode(bytes), 500)
    row(`strict DAG-CBOR decode, ${name}, ops/s (ref: @ipld/dag-cbor)`, ours, theirs, 'ops/s')
  }
}

console.table(rows)
