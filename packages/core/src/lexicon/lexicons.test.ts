import { describe, expect, it } from 'vitest'
import { cidForBytes, RAW } from '../data/cid.js'
import { builtinLexicons } from './builtin.js'
import { assertValidLexiconDoc } from './doc-check.js'
import { InvalidLexiconError, LexiconNotFoundError, ValidationError } from './errors.js'
import { Lexicons } from './lexicons.js'

const cid = cidForBytes(new Uint8Array([1, 2, 3]), RAW)
const blob = (mimeType: string, size: number) => ({ $type: 'blob', ref: cid, mimeType, size })

const doc = (defs: Record<string, unknown>, id = 'com.example.test') => ({ lexicon: 1, id, defs })

const lex = new Lexicons([
  doc({
    main: {
      type: 'record',
      key: 'tid',
      record: {
        type: 'object',
        required: ['integer'],
        nullable: ['maybe'],
        properties: {
          integer: { type: 'integer' },
          unknown: { type: 'unknown' },
          maybe: { type: 'string' },
          text: { type: 'string', maxLength: 12, maxGraphemes: 4 },
          bytes: { type: 'bytes', maxLength: 4 },
          link: { type: 'cid-link' },
          known: { type: 'string', knownValues: ['a', 'b'] },
          image: { type: 'blob', accept: ['image/*'], maxSize: 1000 },
          open: { type: 'union', refs: ['#a', 'com.example.other#b'] },
          closed: { type: 'union', refs: ['#a'], closed: true },
          ref: { type: 'ref', ref: '#a' },
        },
      },
    },
    a: { type: 'object', required: ['x'], properties: { x: { type: 'integer', minimum: 1 } } },
  }),
  doc({ b: { type: 'object', properties: { y: { type: 'boolean' } } } }, 'com.example.other'),
  doc(
    { main: { type: 'record', key: 'literal:self', record: { type: 'object', properties: {} } } },
    'com.example.self',
  ),
  doc(
    { main: { type: 'record', key: 'nsid', record: { type: 'object', properties: {} } } },
    'com.example.named',
  ),
  doc(
    {
      main: {
        type: 'query',
        parameters: {
          type: 'params',
          required: ['actor'],
          properties: {
            actor: { type: 'string', format: 'at-identifier' },
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 50 },
            flag: { type: 'boolean' },
            tags: { type: 'array', items: { type: 'string', maxLength: 3 }, maxLength: 2 },
          },
        },
        output: { encoding: 'application/json', schema: { type: 'ref', ref: '#out' } },
      },
      out: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } },
    },
    'com.example.get',
  ),
  doc(
    {
      main: {
        type: 'procedure',
        input: {
          encoding: 'application/json',
          schema: {
            type: 'object',
            required: ['did'],
            properties: { did: { type: 'string', format: 'did' } },
          },
        },
      },
    },
    'com.example.do',
  ),
  doc(
    {
      main: { type: 'subscription', message: { schema: { type: 'union', refs: ['#tick'] } } },
      tick: { type: 'object', required: ['seq'], properties: { seq: { type: 'integer' } } },
    },
    'com.example.stream',
  ),
])

const rec = (fields: Record<string, unknown>) => ({ $type: 'com.example.test', integer: 1, ...fields })
const messageOf = (fn: () => void) => {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError)
    return (err as Error).message
  }
  throw new Error('expected a ValidationError')
}

describe('record validation', () => {
  it('accepts unknown fields, nullable nulls, open knownValues and open-union variants it does not know', () => {
    expect(() =>
      lex.assertValidRecord(
        'com.example.test',
        rec({
          extra: { anything: [1] },
          maybe: null,
          known: 'zzz',
          open: { $type: 'com.example.new', z: 1 },
        }),
      ),
    ).not.toThrow()
  })

  it('unknown must be a plain object, not a blob, link or bytes (in either form)', () => {
    for (const bad of [
      false,
      'x',
      [1],
      new Uint8Array(2),
      cid,
      blob('image/png', 1),
      { $link: cid.toString() },
      { $bytes: 'AA' },
    ]) {
      expect(messageOf(() => lex.assertValidRecord('com.example.test', rec({ unknown: bad })))).toBe(
        'Record/unknown must be an object',
      )
    }
    expect(() =>
      lex.assertValidRecord('com.example.test', rec({ unknown: { $type: 'x.y.z', a: 1 } })),
    ).not.toThrow()
  })

  it('counts maxLength in UTF-8 bytes and maxGraphemes in grapheme clusters', () => {
    const ok = (text: string) => () => lex.assertValidRecord('com.example.test', rec({ text }))
    expect(ok('👩‍👩‍👦‍👦')).toThrow('Record/text must not be longer than 12 characters') // 25 bytes, 1 grapheme
    expect(ok('éééé')).not.toThrow() // 8 bytes, 4 graphemes
    expect(ok('ééééé')).toThrow('Record/text must not be longer than 4 graphemes')
    expect(ok('abcde')).toThrow('Record/text must not be longer than 4 graphemes')
    expect(ok('🇩🇪🇩🇪')).toThrow('characters') // 16 bytes
  })

  it('counts graphemes exactly around the code-point shortcut (surrogates, combining marks, lone surrogates)', () => {
    const lexicons = new Lexicons([
      doc(
        { main: { type: 'object', properties: { t: { type: 'string', maxGraphemes: 3 } } } },
        'com.example.g',
      ),
    ])
    const check = (t: string) => () => lexicons.assertValid('com.example.g', { t })
    expect(check('🙂🙂🙂')).not.toThrow() // 6 units, 3 code points
    expect(check('🙂🙂🙂🙂')).toThrow('Value/t must not be longer than 3 graphemes')
    expect(check('e\u0301e\u0301e\u0301')).not.toThrow() // 6 code points, 3 graphemes
    expect(check('\udc00\udc00\udc00\udc00')).toThrow('graphemes') // lone low surrogates: 4 code points
  })

  it('checks bytes and links in the IPLD and JSON forms', () => {
    const v = (fields: Record<string, unknown>) => () =>
      lex.assertValidRecord('com.example.test', rec(fields))
    expect(v({ bytes: new Uint8Array(4), link: cid })).not.toThrow()
    expect(v({ bytes: { $bytes: 'AAAAAA' }, link: { $link: cid.toString() } })).not.toThrow()
    expect(v({ bytes: new Uint8Array(5) })).toThrow('Record/bytes must not be larger than 4 bytes')
    expect(v({ bytes: { $bytes: 'AAAAAAAA' } })).toThrow('Record/bytes must not be larger than 4 bytes')
    expect(v({ link: { $link: 'nope' } })).toThrow('Record/link must be a CID')
    expect(v({ link: cid.toString() })).toThrow('Record/link must be a CID')
  })

  it('checks blob MIME patterns and size, and reads the legacy form', () => {
    const v = (image: unknown) => () => lex.assertValidRecord('com.example.test', rec({ image }))
    expect(v(blob('image/png', 1000))).not.toThrow()
    expect(
      v({ $type: 'blob', ref: { $link: cid.toString() }, mimeType: 'IMAGE/JPEG', size: 5 }),
    ).not.toThrow()
    expect(v(blob('image/png', 1001))).toThrow('Record/image must not be larger than 1000 bytes')
    expect(v(blob('video/mp4', 10))).toThrow('Record/image has a mimeType (video/mp4) not accepted')
    expect(v({ cid: cid.toString(), mimeType: 'image/gif' })).not.toThrow()
    expect(v({ $type: 'blob', ref: cid, mimeType: 'image/png' })).toThrow('Record/image should be a blob ref')
  })

  it('validates union variants by $type (local and remote refs), closed unions refuse others', () => {
    const v = (fields: Record<string, unknown>) => () =>
      lex.assertValidRecord('com.example.test', rec(fields))
    expect(v({ open: { $type: 'com.example.test#a', x: 2 } })).not.toThrow()
    expect(v({ open: { $type: 'com.example.test#a', x: 0 } })).toThrow('Record/open/x can not be less than 1')
    expect(v({ open: { $type: 'com.example.other#b', y: 'no' } })).toThrow('Record/open/y must be a boolean')
    expect(v({ closed: { $type: 'com.example.other#b' } })).toThrow(
      'Record/closed $type must be one of com.example.test#a',
    )
    expect(v({ ref: { x: 1 } })).not.toThrow()
    expect(v({ ref: { x: 'one' } })).toThrow('Record/ref/x must be an integer')
  })

  it('requires the $type of the collection and a known record type', () => {
    expect(messageOf(() => lex.assertValidRecord('com.example.test', { integer: 1 }))).toBe(
      'Record/$type must be a string',
    )
    expect(
      messageOf(() => lex.assertValidRecord('com.example.test', { $type: 'com.example.self', integer: 1 })),
    ).toBe('Invalid $type: must be com.example.test, got com.example.self')
    expect(() => lex.assertValidRecord('com.example.missing', { $type: 'com.example.missing' })).toThrow(
      LexiconNotFoundError,
    )
    expect(() => lex.assertValidRecord('com.example.get', { $type: 'com.example.get' })).toThrow(
      LexiconNotFoundError,
    )
  })

  it("checks record keys against the record's key type", () => {
    expect(() => lex.assertValidRecord('com.example.test', rec({}), '3jzfcijpj2z2a')).not.toThrow()
    expect(() => lex.assertValidRecord('com.example.test', rec({}), 'self')).toThrow('must be a TID')
    expect(() =>
      lex.assertValidRecord('com.example.self', { $type: 'com.example.self' }, 'self'),
    ).not.toThrow()
    expect(() => lex.assertValidRecord('com.example.self', { $type: 'com.example.self' }, 'other')).toThrow(
      'must be self',
    )
    expect(() =>
      lex.assertValidRecord('com.example.named', { $type: 'com.example.named' }, 'a.b.c'),
    ).not.toThrow()
    expect(() => lex.assertValidRecord('com.example.named', { $type: 'com.example.named' }, 'abc')).toThrow(
      'must be an NSID',
    )
  })
})

describe('XRPC validation', () => {
  it('decodes params with defaults, formats and arrays, naming the parameter', () => {
    const p = (q: string) => lex.assertValidParams('com.example.get', new URLSearchParams(q))
    expect({ ...p('actor=alice.test&flag=true&tags=a&tags=b') }).toEqual({
      actor: 'alice.test',
      limit: 50,
      flag: true,
      tags: ['a', 'b'],
    })
    expect(() => p('limit=5')).toThrow('Params must have the property "actor"')
    expect(() => p('actor=not a handle')).toThrow('actor must be a valid did or a handle')
    expect(() => p('actor=a.test&limit=101')).toThrow('limit can not be greater than 100')
    expect(() => p('actor=a.test&limit=1.5')).toThrow('limit must be an integer')
    expect(() => p('actor=a.test&flag=yes')).toThrow('flag must be a boolean')
    expect(() => p('actor=a.test&tags=abcd')).toThrow('tags/0 must not be longer than 3 characters')
    expect(() => p('actor=a.test&tags=a&tags=b&tags=c')).toThrow('tags must not have more than 2 elements')
    expect(() => p('actor=a.test&actor=b.test')).toThrow('actor must be a single value')
    expect({ ...lex.assertValidParams('com.example.unknown', new URLSearchParams('a=1')) }).toEqual({
      a: '1',
    })
  })

  it('validates inputs, outputs (through refs) and subscription messages', () => {
    expect(() => lex.assertValidInput('com.example.do', { did: 'did:plc:abc' })).not.toThrow()
    expect(() => lex.assertValidInput('com.example.do', { did: 'alice' })).toThrow(
      'Input/did must be a valid did',
    )
    expect(() => lex.assertValidInput('com.example.do', [])).toThrow('Input must be an object')
    expect(() => lex.assertValidInput('com.example.nope', 42)).not.toThrow()
    expect(() => lex.assertValidOutput('com.example.get', { n: 1 })).not.toThrow()
    expect(() => lex.assertValidOutput('com.example.get', {})).toThrow('Output must have the property "n"')
    expect(() => lex.assertValidMessage('com.example.stream', { $type: '#tick', seq: 1 })).not.toThrow()
    expect(() =>
      lex.assertValidMessage('com.example.stream', { $type: 'com.example.stream#tick', seq: 'x' }),
    ).toThrow('Message/seq must be an integer')
    expect(() => lex.assertValidMessage('com.example.stream', { seq: 1 })).toThrow(
      'must be an object which includes',
    )
  })
})

describe('lexicon documents', () => {
  const bad = (defs: Record<string, unknown>) => () => assertValidLexiconDoc(doc(defs))
  it('refuses what lexicon.md forbids', () => {
    expect(bad({})).toThrow('at least one definition')
    expect(bad({ other: { type: 'query' } })).toThrow('must be the main definition')
    expect(bad({ main: { type: 'params', properties: {} } })).toThrow('can not be of type params')
    expect(bad({ main: { type: 'union', refs: [] } })).toThrow('can not be of type union')
    expect(
      bad({ main: { type: 'object', properties: { u: { type: 'union', refs: [], closed: true } } } }),
    ).toThrow('empty closed union')
    expect(bad({ main: { type: 'string', const: 'a', default: 'b' } })).toThrow('both const and default')
    expect(bad({ main: { type: 'string', format: 'email' } })).toThrow('format')
    expect(bad({ main: { type: 'query', input: { encoding: 'application/json' } } })).toThrow(
      'not allowed on a query',
    )
    expect(
      bad({ main: { type: 'record', key: 'uuid', record: { type: 'object', properties: {} } } }),
    ).toThrow('key')
    expect(bad({ main: { type: 'object', required: ['a'], properties: {} } })).toThrow(
      'undefined property "a"',
    )
    expect(bad({ main: { type: 'object', properties: { t: { type: 'token' } } } })).toThrow('type token')
    expect(
      bad({
        main: {
          type: 'query',
          parameters: { type: 'params', properties: { o: { type: 'object', properties: {} } } },
        },
      }),
    ).toThrow('type object')
    expect(
      bad({ main: { type: 'subscription', message: { schema: { type: 'object', properties: {} } } } }),
    ).toThrow('type object')
    expect(bad({ main: { type: 'blob', accept: ['image/pn*'] } })).toThrow('MIME pattern')
    expect(bad({ main: { type: 'object', properties: { r: { type: 'ref', ref: 'not a ref' } } } })).toThrow(
      'reference',
    )
  })

  it('checks that references resolve to what they may point at', () => {
    const refTo = (ref: string, defs: Record<string, unknown> = {}) =>
      new Lexicons([doc({ main: { type: 'object', properties: { r: { type: 'ref', ref } } }, ...defs })])
    expect(() => refTo('#x', { x: { type: 'string' } }).checkRefs()).not.toThrow()
    expect(() => refTo('#missing').checkRefs()).toThrow(InvalidLexiconError)
    expect(() => refTo('#tok', { tok: { type: 'token' } }).checkRefs()).toThrow('a token')
    const union = new Lexicons([
      doc({
        main: { type: 'object', properties: { u: { type: 'union', refs: ['#s'] } } },
        s: { type: 'string' },
      }),
    ])
    expect(() => union.checkRefs()).toThrow('a string')
    expect(() => new Lexicons([doc({ a: { type: 'string' } }), doc({ b: { type: 'string' } })])).toThrow(
      'already been loaded',
    )
  })

  it('ships lexicons that load and resolve', () => {
    const lexicons = builtinLexicons()
    expect(() => lexicons.checkRefs()).not.toThrow()
    expect(lexicons.recordKeyType('app.bsky.actor.profile')).toBe('literal:self')
    expect(lexicons.recordKeyType('app.bsky.feed.post')).toBe('tid')
  })
})

describe('datetime fast path', () => {
  it('agrees with the full syntax check on the interop fixtures and on mutations of them', async () => {
    const { readFileSync } = await import('node:fs')
    const { isValidDatetime } = await import('../syntax/formats.js')
    const { isDatetime } = await import('./compile.js')
    const lines = [
      'datetime_syntax_valid.txt',
      'datetime_syntax_invalid.txt',
      'datetime_parse_invalid.txt',
    ].flatMap((f) =>
      readFileSync(new URL(`../../test/interop/syntax/${f}`, import.meta.url), 'utf8')
        .split('\n')
        .filter((l) => l.length > 0 && !l.startsWith('#')),
    )
    const cases = new Set(lines)
    // Every calendar corner: days 00-32 of every month in leap and common years, times at their edges.
    for (const y of ['0000', '0001', '1900', '2000', '2023', '2024'])
      for (let m = 0; m <= 13; m++)
        for (let d = 0; d <= 32; d++)
          for (const t of ['00:00:00', '23:59:59', '24:00:00', '23:60:00', '23:59:60'])
            for (const frac of ['', '.1', '.123456789', '.1234567890'])
              cases.add(`${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}T${t}${frac}Z`)
    expect(cases.size).toBeGreaterThan(10_000)
    for (const s of cases) expect(isDatetime(s), s).toBe(isValidDatetime(s))
  })
})
