// Randomly mutated records and params: validation answers with a ValidationError or accepts, never
// anything else (a TypeError here would be a 500 on the write path).
import { describe, expect, it } from 'vitest'
import { cidForBytes } from '../data/cid.js'
import { builtinLexicons } from './builtin.js'
import { ValidationError } from './errors.js'

// A small deterministic PRNG, so a failure reproduces.
let seed = 0x2545f491
const rand = () => {
  seed ^= seed << 13
  seed ^= seed >>> 17
  seed ^= seed << 5
  return (seed >>> 0) / 0x100000000
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!

const cid = cidForBytes(new Uint8Array([7]))
const strongRef = {
  uri: 'at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3jzfcijpj2z2a',
  cid: cid.toString(),
}
const seeds: Record<string, Record<string, unknown>> = {
  'app.bsky.feed.post': {
    $type: 'app.bsky.feed.post',
    text: 'hello @a.test',
    facets: [
      {
        index: { byteStart: 6, byteEnd: 13 },
        features: [{ $type: 'app.bsky.richtext.facet#mention', did: 'did:plc:x' }],
      },
    ],
    reply: { root: strongRef, parent: strongRef },
    embed: {
      $type: 'app.bsky.embed.images',
      images: [{ image: { $type: 'blob', ref: cid, mimeType: 'image/png', size: 5 }, alt: 'x' }],
    },
    langs: ['en'],
    labels: { $type: 'com.atproto.label.defs#selfLabels', values: [{ val: 'nudity' }] },
    createdAt: '2024-01-01T00:00:00.000Z',
  },
  'app.bsky.actor.profile': { $type: 'app.bsky.actor.profile', displayName: 'A', pinnedPost: strongRef },
  'app.bsky.graph.list': {
    $type: 'app.bsky.graph.list',
    purpose: 'app.bsky.graph.defs#curatelist',
    name: 'n',
    createdAt: '2024-01-01T00:00:00Z',
  },
}

const weird = (): unknown =>
  pick([
    null,
    undefined,
    0,
    -1,
    1.5,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    '',
    'x'.repeat(5000),
    '🙂'.repeat(400),
    '\udc00',
    true,
    [],
    [null],
    {},
    { $type: 5 },
    { $type: 'blob' },
    { $link: 1 },
    { $bytes: '!!' },
    new Uint8Array(3),
    cid,
    Object.create(null),
    { __proto__: { polluted: true } },
    strongRef,
  ])

function mutate(value: unknown, depth = 0): unknown {
  if (rand() < 0.15) return weird()
  if (Array.isArray(value)) return value.map((v) => mutate(v, depth + 1))
  if (value && typeof value === 'object' && !(value instanceof Uint8Array) && value !== cid) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) if (rand() > 0.1) out[k] = mutate(v, depth + 1)
    if (rand() < 0.1) out[pick(['extra', '$type', 'text', 'ref'])] = weird()
    return out
  }
  return value
}

describe('lexicon validation under random input', () => {
  const lexicons = builtinLexicons()

  it('5,000 mutated records: accepted or a ValidationError, nothing else', () => {
    let refused = 0
    for (let i = 0; i < 5000; i++) {
      const nsid = pick(Object.keys(seeds))
      const value = mutate(seeds[nsid])
      try {
        lexicons.assertValidRecord(nsid, value, pick(['self', '3jzfcijpj2z2a', 'a b', '']))
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err
        expect(err.message.length).toBeGreaterThan(0)
        refused++
      }
    }
    // Mutations mostly break records, but not all: both outcomes are exercised.
    expect(refused).toBeGreaterThan(1000)
    expect(refused).toBeLessThan(5000)
  })

  it('2,000 random query strings: decoded or a ValidationError', () => {
    const names = ['repo', 'collection', 'limit', 'cursor', 'reverse', 'rkey', 'cid']
    const values = [
      '',
      'x',
      '-1',
      '1e3',
      '100',
      '101',
      'true',
      'did:plc:abc',
      'app.bsky.feed.post',
      '%00',
      '🙂',
    ]
    for (let i = 0; i < 2000; i++) {
      const q = new URLSearchParams()
      for (let k = 0; k < 4; k++) q.append(pick(names), pick(values))
      const nsid = pick([
        'com.atproto.repo.listRecords',
        'com.atproto.repo.getRecord',
        'com.atproto.sync.listRepos',
      ])
      try {
        lexicons.assertValidParams(nsid, q)
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err
      }
    }
  })
})
