#!/usr/bin/env node
// Refresh lexicons/ from the official lexicon set shipped in @atproto/api (a devDependency; MIT).
// Lexicon documents are protocol data: we keep them verbatim, one file per NSID, laid out by NSID path
// like the reference repository. Run: node scripts/import-lexicons.mjs
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'lexicons')
const { schemas } = await import('@atproto/api')
// @atproto/api's schema dict spells refs `lex:nsid#def`; restore the lexicon-file form (`#def` inside the
// same document, `nsid#def` elsewhere).
const unprefix = (doc) =>
  JSON.parse(
    JSON.stringify(doc, (key, value) => {
      const fix = (ref) => {
        const bare = ref.startsWith('lex:') ? ref.slice(4) : ref
        return bare.startsWith(`${doc.id}#`) ? bare.slice(doc.id.length) : bare
      }
      if (key === 'ref' && typeof value === 'string') return fix(value)
      if (key === 'refs' && Array.isArray(value)) return value.map(fix)
      return value
    }),
  )
const byId = new Map(schemas.map((doc) => [doc.id, unprefix(doc)]))

// Everything under com.atproto (PDS, sync, identity, label, moderation, admin), plus the app.bsky records
// the framework validates and indexes, with every document they reference.
const roots = [
  ...[...byId.keys()].filter((id) => id.startsWith('com.atproto.')),
  'app.bsky.actor.profile',
  'app.bsky.feed.post',
  'app.bsky.feed.like',
  'app.bsky.feed.repost',
  'app.bsky.graph.follow',
  'app.bsky.graph.block',
  'app.bsky.graph.list',
  'app.bsky.graph.listitem',
  'app.bsky.feed.generator',
  'app.bsky.labeler.service',
]

const refsOf = (value, out) => {
  if (Array.isArray(value)) for (const v of value) refsOf(v, out)
  else if (value && typeof value === 'object') {
    if (typeof value.ref === 'string') out.push(value.ref)
    if (Array.isArray(value.refs)) out.push(...value.refs)
    for (const v of Object.values(value)) refsOf(v, out)
  }
  return out
}

const wanted = new Set()
const queue = [...roots]
while (queue.length) {
  const id = queue.pop()
  if (wanted.has(id)) continue
  const doc = byId.get(id)
  if (!doc) throw new Error(`lexicon ${id} not found in @atproto/api`)
  wanted.add(id)
  for (const ref of refsOf(doc.defs, [])) {
    const target = ref.startsWith('#') ? id : ref.split('#')[0]
    if (target && !wanted.has(target)) queue.push(target)
  }
}

for (const id of [...wanted].sort()) {
  const file = `${join(root, ...id.split('.'))}.json`
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, `${JSON.stringify(byId.get(id), null, 2)}\n`)
}
console.log(`wrote ${wanted.size} lexicons to ${root}`)
