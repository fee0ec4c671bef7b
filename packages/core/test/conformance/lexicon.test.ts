// Every case of the interop lexicon fixtures: lexicon documents accepted or refused, and record data
// validated against the catalog (with its rkey), both in the IPLD form (after JSON -> IPLD) and in the
// atproto JSON form XRPC bodies arrive in. One test per case.
import { readdirSync, readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { InvalidJsonDataError, jsonToIpld } from '../../src/data/json.js'
import {
  assertValidLexiconDoc,
  InvalidLexiconError,
  Lexicons,
  ValidationError,
} from '../../src/lexicon/index.js'
import { lexiconDocs } from '../../src/lexicons/schemas.js'

const dir = new URL('../interop/lexicon/', import.meta.url)
const load = (name: string) =>
  JSON.parse(readFileSync(new URL(name, dir), 'utf8')) as Array<Record<string, any>>
const catalog = readdirSync(new URL('catalog/', dir))
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(new URL(`catalog/${f}`, dir), 'utf8')))

/**
 * Cases where the fixtures and lexicon.md disagree, with the spec passage: a listed case is expected
 * to go the spec's way, and its test fails once it follows the fixture (then drop it from the list).
 * Empty: every fixture is followed.
 */
const KNOWN_DIVERGENCES = new Map<string, string>()

const counts = { run: 0, passed: 0 }
const tally = (fn: () => void) => {
  counts.run++
  fn()
  counts.passed++
}
afterAll(() => {
  console.log(`lexicon interop fixtures: ${counts.passed}/${counts.run} cases passed`)
})

// Shipped lexicons resolve the catalog's outside references (app.bsky.actor.defs#preferences).
const lexicons = new Lexicons([...(lexiconDocs as unknown as unknown[]), ...catalog])

describe('interop lexicon fixtures: documents', () => {
  it.each(load('lexicon-valid.json').map((c) => [c.name, c]))('valid lexicon: %s', (_n, c) =>
    tally(() => {
      expect(() => assertValidLexiconDoc(c.lexicon)).not.toThrow()
      expect(() => new Lexicons([c.lexicon])).not.toThrow()
    }),
  )

  it.each(load('lexicon-invalid.json').map((c) => [c.name, c]))('invalid lexicon: %s', (_n, c) =>
    tally(() => {
      expect(() => assertValidLexiconDoc(c.lexicon)).toThrow(InvalidLexiconError)
    }),
  )

  it.each(catalog.map((doc) => [doc.id, doc]))('catalog lexicon loads: %s', (_id, doc) =>
    tally(() => {
      expect(() => assertValidLexiconDoc(doc)).not.toThrow()
      expect(lexicons.get(doc.id)).toBe(doc)
    }),
  )

  it('every reference of the catalog and the shipped lexicons resolves', () =>
    tally(() => {
      expect(() => lexicons.checkRefs()).not.toThrow()
    }))
})

function validate(c: Record<string, any>, form: 'ipld' | 'json'): void {
  const value = form === 'ipld' ? jsonToIpld(c.data) : c.data
  lexicons.assertValidRecord(c.data.$type, value, c.rkey)
}

describe('interop lexicon fixtures: record data', () => {
  it.each(load('record-data-valid.json').map((c) => [c.name, c]))('valid record: %s', (_n, c) =>
    tally(() => {
      expect(() => validate(c, 'ipld')).not.toThrow()
      expect(() => validate(c, 'json')).not.toThrow()
    }),
  )

  it.each(load('record-data-invalid.json').map((c, i) => [`${c.name} (#${i})`, c]))(
    'invalid record: %s',
    (name, c) =>
      tally(() => {
        const divergence = KNOWN_DIVERGENCES.get(name)
        const verdict = (form: 'ipld' | 'json') => {
          try {
            validate(c, form)
            return 'accepted'
          } catch (err) {
            // Refused either by the data model (JSON -> IPLD) or by the lexicon: never anything else.
            expect(
              [ValidationError, InvalidJsonDataError].some((E) => err instanceof E),
              String(err),
            ).toBe(true)
            return 'refused'
          }
        }
        expect(verdict('ipld'), divergence).toBe(divergence ? 'accepted' : 'refused')
        if (!divergence) expect(verdict('json')).toBe('refused')
      }),
  )
})
