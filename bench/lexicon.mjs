// Lexicon validation benchmarks, ours vs @atproto/lexicon side by side in one run: records validated
// per second, as the PDS does on every write (and an AppView on every indexed firehose record).
// Run: npx tsc -b packages/core && node bench/lexicon.mjs

import { BlobRef, Lexicons as RefLexicons } from '@atproto/lexicon'
import { CID } from 'multiformats/cid'
import { Lexicons } from '../packages/core/dist/lexicon/index.js'
import { lexiconDocs } from '../packages/core/dist/lexicons/schemas.js'

const now = () => performance.now()
const fmt = (n) => (n >= 100 ? n.toFixed(0) : n.toFixed(2))
const rows = []
function row(name, ours, ref) {
  rows.push({
    name,
    ours: `${fmt(ours)} rec/s`,
    reference: `${fmt(ref)} rec/s`,
    'ours/ref': `${(ours / ref).toFixed(2)}x`,
  })
}

// Both engines load the same documents, each its own copy (the reference rewrites refs in place).
const copy = () => JSON.parse(JSON.stringify(lexiconDocs))
const ours = new Lexicons(copy())
const ref = new RefLexicons(copy())

const cid = CID.parse('bafkreie5cvv4h45feadgeuwhbcutmh6t2ceseocckahdoe6uat64zmz454')
const postCid = 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm'
const postUri = 'at://did:plc:ewvi7nxzyoun6zhxrhs64oiz/app.bsky.feed.post/3jzfcijpj2z2a'
const strongRef = { uri: postUri, cid: postCid }
const text = 'Trip report from the coast 🌊 with @alice.example.com — photos below #travel'

/** A typical post: text with facets, a reply, two images with alt text and aspect ratios, langs. */
function post(blob) {
  return {
    $type: 'app.bsky.feed.post',
    text,
    facets: [
      {
        index: { byteStart: 35, byteEnd: 53 },
        features: [{ $type: 'app.bsky.richtext.facet#mention', did: 'did:plc:ewvi7nxzyoun6zhxrhs64oiz' }],
      },
      {
        index: { byteStart: 74, byteEnd: 81 },
        features: [{ $type: 'app.bsky.richtext.facet#tag', tag: 'travel' }],
      },
    ],
    reply: { root: strongRef, parent: strongRef },
    embed: {
      $type: 'app.bsky.embed.images',
      images: [
        { image: blob(), alt: 'The harbour at dawn', aspectRatio: { width: 4032, height: 3024 } },
        { image: blob(), alt: 'Waves on the rocks', aspectRatio: { width: 3024, height: 4032 } },
      ],
    },
    langs: ['en'],
    createdAt: '2026-12-01T18:20:00.000Z',
  }
}
// Ours validates the IPLD form (as decoded from CBOR); the reference wants its BlobRef class.
const oursPost = post(() => ({ $type: 'blob', ref: cid, mimeType: 'image/jpeg', size: 734_112 }))
const refPost = post(() => new BlobRef(cid, 'image/jpeg', 734_112))
const like = { $type: 'app.bsky.feed.like', subject: strongRef, createdAt: '2026-12-01T18:20:00.000Z' }

function rate(fn, ms = 1500) {
  for (let i = 0; i < 2000; i++) fn() // warm up (and compile, for ours)
  let n = 0
  const t0 = now()
  let t = t0
  while (t - t0 < ms) {
    for (let i = 0; i < 500; i++) fn()
    n += 500
    t = now()
  }
  return n / ((t - t0) / 1000)
}

// Sanity: both accept the valid records and refuse the same invalid one.
ours.assertValidRecord('app.bsky.feed.post', oursPost)
ref.assertValidRecord('app.bsky.feed.post', refPost)
const tooLong = { ...oursPost, text: '🙂'.repeat(301) }
const refTooLong = { ...refPost, text: tooLong.text }
for (const [engine, value] of [
  [ours, tooLong],
  [ref, refTooLong],
]) {
  let refused = false
  try {
    engine.assertValidRecord('app.bsky.feed.post', value)
  } catch {
    refused = true
  }
  if (!refused) throw new Error('a 301-grapheme post was accepted')
}

row(
  'app.bsky.feed.post with images embed, facets, reply',
  rate(() => ours.assertValidRecord('app.bsky.feed.post', oursPost)),
  rate(() => ref.assertValidRecord('app.bsky.feed.post', refPost)),
)
row(
  'app.bsky.feed.like',
  rate(() => ours.assertValidRecord('app.bsky.feed.like', like)),
  rate(() => ref.assertValidRecord('app.bsky.feed.like', like)),
)
const emoji = { ...oursPost, text: '🙂'.repeat(280) }
const refEmoji = { ...refPost, text: emoji.text }
row(
  'post of 280 emoji (valid: graphemes counted)',
  rate(() => ours.assertValidRecord('app.bsky.feed.post', emoji)),
  rate(() => ref.assertValidRecord('app.bsky.feed.post', refEmoji)),
)
const refuse = (engine, value) => () => {
  try {
    engine.assertValidRecord('app.bsky.feed.post', value)
  } catch {}
}
row('post refused (301 graphemes)', rate(refuse(ours, tooLong)), rate(refuse(ref, refTooLong)))

console.table(rows)
