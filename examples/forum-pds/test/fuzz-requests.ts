// Randomized XRPC requests for the fuzz test: a seeded generator (the same seed gives the same
// requests). Sending them and judging the answers: fuzz-answers.ts.
import { gzipSync } from 'node:zlib'
import * as dagCbor from '@ipld/dag-cbor'
import { lexiconDocs } from '@next-atproto/core'

/** sfc32: small, fast, good enough for test inputs; seeded so every run is reproducible. */
export class Rng {
  #a: number
  #b: number
  #c: number
  #d: number
  constructor(seed: number) {
    this.#a = 0x9e3779b9
    this.#b = 0x243f6a88
    this.#c = 0xb7e15162
    this.#d = seed >>> 0
    for (let i = 0; i < 15; i++) this.next()
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.#a >>>= 0
    this.#b >>>= 0
    this.#c >>>= 0
    this.#d >>>= 0
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0
    this.#d = (this.#d + 1) | 0
    this.#a = this.#b ^ (this.#b >>> 9)
    this.#b = (this.#c + (this.#c << 3)) | 0
    this.#c = (this.#c << 21) | (this.#c >>> 11)
    this.#c = (this.#c + t) | 0
    return (t >>> 0) / 4294967296
  }
  int(max: number): number {
    return Math.floor(this.next() * max)
  }
  chance(p: number): boolean {
    return this.next() < p
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!
  }
  bytes(n: number): Buffer {
    const out = Buffer.alloc(n)
    for (let i = 0; i < n; i++) out[i] = this.int(256)
    return out
  }
}

type Scalar = { type: string; format?: string; maxLength?: number; minimum?: number; maximum?: number }
interface ParamsDef {
  required?: string[]
  properties: Record<string, Scalar & { items?: Scalar; enum?: unknown[]; knownValues?: string[] }>
}
interface MethodDef {
  nsid: string
  type: 'query' | 'procedure' | 'subscription'
  params?: ParamsDef
  input?: { encoding: string; schema?: { required?: string[]; properties?: Record<string, Scalar> } }
}

/** Every query, procedure and subscription the lexicons declare. */
export const lexiconMethods: MethodDef[] = (
  lexiconDocs as unknown as Array<{ id: string; defs: { main?: Record<string, any> } }>
)
  .filter((d) => ['query', 'procedure', 'subscription'].includes(d.defs.main?.type))
  .map((d) => ({
    nsid: d.id,
    type: d.defs.main!.type,
    params: d.defs.main!.parameters,
    input: d.defs.main!.input,
  }))

/** What the oracle must see for one request, beyond the invariants every answer keeps. */
export type Expectation =
  | { kind: 'any' }
  | {
      kind: 'status'
      status: number
      error?: string
      field?: string
      why: string
    }

/** A request over HTTP (node:http) or raw bytes on a socket. */
export type FuzzCase =
  | {
      kind: 'http'
      method: string
      path: string
      headers: Record<string, string>
      body?: Buffer
      nsid?: string
      expect: Expectation
    }
  | { kind: 'raw'; bytes: Buffer; nsid?: string; expect: Expectation; label: string }

/** An answer as the oracle reads it. */
export interface FuzzAnswer {
  status: number
  contentType: string
  body: string
}

/** The fuzz account: real credentials, so requests get past auth to the body and handler checks. */
export interface FuzzAccount {
  did: string
  handle: string
  accessJwt: string
  postRkey: string
  postCid: string
}

/** Procedures the account's access token authorizes, safe to call at random (no self-deactivation). */
const AUTHED_JSON = [
  'com.atproto.repo.createRecord',
  'com.atproto.repo.putRecord',
  'com.atproto.repo.deleteRecord',
  'com.atproto.repo.applyWrites',
]
/** Procedures that need no auth at all. */
const OPEN_JSON = ['com.atproto.server.createAccount', 'com.atproto.server.createSession']
/** Procedures never called with the valid token (they would end the fuzz account or its session). */
const DESTRUCTIVE = new Set([
  'com.atproto.server.deactivateAccount',
  'com.atproto.server.deleteAccount',
  'com.atproto.server.requestAccountDelete',
  'com.atproto.server.deleteSession',
  'com.atproto.server.revokeAppPassword',
  'com.atproto.identity.updateHandle',
  'com.atproto.server.updateEmail',
  'com.atproto.identity.submitPlcOperation',
  'com.atproto.repo.importRepo',
])

/** Fields whose wrong type must be refused with a 400 that names them (lexicon `required`, typed). */
const BODY_FIELDS: Record<string, Record<string, 'string' | 'object' | 'array'>> = {
  'com.atproto.repo.createRecord': { repo: 'string', collection: 'string', record: 'object' },
  'com.atproto.repo.putRecord': { repo: 'string', collection: 'string', rkey: 'string', record: 'object' },
  'com.atproto.repo.deleteRecord': { repo: 'string', collection: 'string', rkey: 'string' },
  'com.atproto.repo.applyWrites': { repo: 'string', writes: 'array' },
  'com.atproto.server.createSession': { identifier: 'string', password: 'string' },
  'com.atproto.server.createAccount': { handle: 'string' },
}

const UNKNOWN_NSIDS = [
  'com.example.doesNotExist',
  'io.fuzz.nothing.here',
  'com.atproto.repo.createRecordz',
  'app.bsky.feed.getTimelineX',
  'a.b.c',
  'com.atproto.sync.notARealMethod',
]
const BAD_PATHS = [
  '/xrpc/',
  '/xrpc/a..b',
  '/xrpc/%00',
  '/xrpc/-abc',
  '/xrpc/com.atproto..x',
  '/xrpc/%E2%98%83.snow.man',
  '/xrpc/com.atproto.server.describeServer%2F..%2F..',
  `/xrpc/${'a'.repeat(400)}.b.c`,
  '/xrpc/com.atproto.server.describeServer/extra',
  '/xrpc/a/b/c',
]
const UNICODE = ['é', '☃', '😀', '\u0000', '\uFEFF', 'ｆｕｌｌ', '\u202E', '𝔘𝔫𝔦', 'a\u0301', '\uD800']
const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'text/plain',
  'application/cbor',
  'application/vnd.ipld.car',
  'image/png',
  'application/octet-stream',
  'multipart/form-data; boundary=x',
  'x',
  'application/json;;;',
  '',
]

function randomString(rng: Rng, max = 24): string {
  const n = rng.int(max + 1)
  let s = ''
  for (let i = 0; i < n; i++) {
    const r = rng.next()
    if (r < 0.7) s += String.fromCharCode(97 + rng.int(26))
    else if (r < 0.85) s += rng.pick(['.', '-', ':', '/', '%', '&', '=', '?', '#', ' ', '+', '"'])
    else s += rng.pick(UNICODE)
  }
  return s
}

function randomJson(rng: Rng, depth = 0): unknown {
  const r = rng.next()
  if (depth > 3 || r < 0.3) {
    return rng.pick<unknown>([
      null,
      true,
      false,
      0,
      -1,
      1.5,
      2 ** 53 + 2,
      1e308,
      randomString(rng),
      '',
      { $link: randomString(rng) },
      { $bytes: randomString(rng) },
      { $type: 'blob', ref: { $link: 'bafkrei' }, mimeType: 'image/png', size: -1 },
    ])
  }
  if (r < 0.55) return Array.from({ length: rng.int(5) }, () => randomJson(rng, depth + 1))
  const out: Record<string, unknown> = {}
  for (let i = rng.int(6); i > 0; i--) {
    out[
      rng.pick(['$type', 'text', 'createdAt', 'repo', 'collection', 'rkey', 'record', randomString(rng, 8)])
    ] = randomJson(rng, depth + 1)
  }
  return out
}

const MALFORMED_JSON = [
  '{',
  '{"a":}',
  '[1,2,',
  '{"a":1,}',
  "{'a':1}",
  'NaN',
  '{"a":NaN}',
  '{"a":"\\x41"}',
  'tru',
  '{"a":1}}',
  '"unterminated',
]

function paramValue(rng: Rng, name: string, schema: Scalar, account: FuzzAccount): string {
  switch (schema.type) {
    case 'integer': {
      const lo = schema.minimum ?? 0
      const hi = schema.maximum ?? lo + 100
      return String(lo + rng.int(hi - lo + 1))
    }
    case 'boolean':
      return rng.pick(['true', 'false'])
    default:
      switch (schema.format) {
        case 'did':
          return rng.chance(0.8) ? account.did : 'did:plc:aaaaaaaaaaaaaaaaaaaaaaaa'
        case 'handle':
          return account.handle
        case 'at-identifier':
          return rng.pick([account.did, account.handle])
        case 'nsid':
          return rng.pick(['app.bsky.feed.post', 'app.bsky.feed.like', 'com.example.thing'])
        case 'cid':
          return rng.chance(0.5) ? account.postCid : 'bafyreinvalid'
        case 'datetime':
          return new Date(1_700_000_000_000 + rng.int(1e9)).toISOString()
        case 'record-key':
          return rng.chance(0.7) ? account.postRkey : 'self'
        case 'tid':
          return account.postRkey
        case 'at-uri':
          return `at://${account.did}/app.bsky.feed.post/${account.postRkey}`
        case 'uri':
          return 'https://example.com/x'
        default:
          if (name === 'collection') return 'app.bsky.feed.post'
          if (name === 'rkey') return account.postRkey
          if (name === 'cursor') return rng.chance(0.5) ? '' : randomString(rng, 12)
          return randomString(rng, Math.min(schema.maxLength ?? 24, 24))
      }
  }
}

/** A wrong value for a parameter the schema must refuse, or undefined when none is sure to be wrong. */
function badParamValue(rng: Rng, schema: Scalar & { enum?: unknown[] }): string | undefined {
  switch (schema.type) {
    case 'integer':
      return rng.pick([
        'abc',
        '1.5',
        '1e3',
        '0x10',
        '99999999999999999999',
        String((schema.maximum ?? 2 ** 53) + 1),
        ...(schema.minimum !== undefined ? [String(schema.minimum - 1)] : []),
      ])
    case 'boolean':
      return rng.pick(['yes', '1', 'TRUE', 'maybe'])
    case 'string':
      if (schema.maxLength !== undefined) return 'x'.repeat(schema.maxLength + 1 + rng.int(10))
      if (schema.enum) return `${String(schema.enum[0])}-not`
      return undefined
    default:
      return undefined
  }
}

function encodeQuery(pairs: Array<[string, string]>): string {
  if (pairs.length === 0) return ''
  return `?${pairs
    .map(([k, v]) => {
      try {
        return `${encodeURIComponent(k)}=${encodeURIComponent(v)}`
      } catch {
        // Lone surrogates: send the raw percent bytes a sloppy client would.
        return `${encodeURIComponent(k.replace(/[\uD800-\uDFFF]/g, ''))}=%ED%A0%80`
      }
    })
    .join('&')}`
}

function validParams(rng: Rng, def: MethodDef, account: FuzzAccount): Array<[string, string]> {
  const pairs: Array<[string, string]> = []
  for (const [name, schema] of Object.entries(def.params?.properties ?? {})) {
    const required = def.params?.required?.includes(name) ?? false
    if (!required && rng.chance(0.5)) continue
    if (schema.type === 'array') {
      for (let i = 1 + rng.int(3); i > 0; i--)
        pairs.push([name, paramValue(rng, name, schema.items!, account)])
    } else pairs.push([name, paramValue(rng, name, schema, account)])
  }
  return pairs
}

function noisyParams(rng: Rng): Array<[string, string]> {
  const pairs: Array<[string, string]> = []
  for (let i = rng.int(4); i > 0; i--) {
    const r = rng.next()
    if (r < 0.4) pairs.push([randomString(rng, 8), randomString(rng)])
    else if (r < 0.6) pairs.push(['limit', rng.pick(['-1', 'abc', '', '1000000', '50'])])
    else if (r < 0.8) pairs.push(['cursor', randomString(rng, 40)])
    else pairs.push([randomString(rng, 4), 'x'.repeat(rng.pick([1000, 8000, 20_000]))])
  }
  return pairs
}

function authHeaders(rng: Rng, account: FuzzAccount, allowValid: boolean): Record<string, string> {
  const r = rng.next()
  const b64 = () => rng.bytes(8 + rng.int(40)).toString('base64url')
  if (allowValid && r < 0.35) return { authorization: `Bearer ${account.accessJwt}` }
  if (r < 0.5) return {}
  if (r < 0.65) return { authorization: `Bearer ${b64()}.${b64()}.${b64()}` }
  if (r < 0.72) return { authorization: rng.pick(['Bearer', 'Bearer ', 'bearer x', 'Basic', 'Basic !!!']) }
  if (r < 0.8) {
    // alg "none" token with a plausible payload.
    const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
    return {
      authorization: `Bearer ${enc({ alg: 'none', typ: 'at+jwt' })}.${enc({ sub: account.did, scope: 'com.atproto.access', exp: 9e9 })}.`,
    }
  }
  if (r < 0.9) return { authorization: `DPoP ${b64()}.${b64()}.${b64()}`, dpop: `${b64()}.${b64()}.${b64()}` }
  if (r < 0.95)
    return { authorization: `Basic ${Buffer.from(`admin:${randomString(rng)}`).toString('base64')}` }
  return { authorization: `Bearer ${account.accessJwt.slice(0, -3)}abc` }
}

function jsonBody(rng: Rng, nsid: string, account: FuzzAccount): unknown {
  // Mostly plausible bodies (so handlers run), sometimes anything.
  return rng.chance(0.3) ? randomJson(rng) : plausibleBody(rng, nsid, account)
}

/** A body with every field of the right shape (values may still be refused by the handler). */
function plausibleBody(rng: Rng, nsid: string, account: FuzzAccount): unknown {
  const post = {
    $type: 'app.bsky.feed.post',
    text: randomString(rng, 40),
    createdAt: new Date(1_700_000_000_000 + rng.int(1e9)).toISOString(),
  }
  const record = rng.chance(0.7) ? post : (randomJson(rng) as object)
  switch (nsid) {
    case 'com.atproto.repo.createRecord':
      return { repo: account.did, collection: rng.pick(['app.bsky.feed.post', 'com.example.fuzz']), record }
    case 'com.atproto.repo.putRecord':
      return { repo: account.did, collection: 'com.example.fuzz', rkey: `k${rng.int(50)}`, record }
    case 'com.atproto.repo.deleteRecord':
      return { repo: account.did, collection: 'com.example.fuzz', rkey: `k${rng.int(50)}` }
    case 'com.atproto.repo.applyWrites':
      return {
        repo: account.did,
        writes: [
          { $type: 'com.atproto.repo.applyWrites#create', collection: 'com.example.fuzz', value: record },
          { $type: rng.pick(['com.atproto.repo.applyWrites#delete', 'bogus']), collection: 'x', rkey: 'y' },
        ].slice(0, 1 + rng.int(2)),
      }
    case 'com.atproto.server.createSession':
      return { identifier: rng.pick([account.handle, randomString(rng)]), password: randomString(rng) }
    case 'com.atproto.server.createAccount':
      return {
        handle: `${randomString(rng, 10)}.test`,
        password: randomString(rng),
        email: randomString(rng),
      }
    default:
      return randomJson(rng)
  }
}

function wrongTypeValue(rng: Rng, type: 'string' | 'object' | 'array'): unknown {
  const candidates: unknown[] =
    type === 'string'
      ? [5, true, null, [], {}, ['a']]
      : type === 'object'
        ? [5, 'text', true, null]
        : [5, 'text', true, null, { 0: 'a' }]
  return rng.pick(candidates)
}

/** Everything the generator needs to know about the app under test. */
export interface FuzzTarget {
  account: FuzzAccount
  /** Whether the app registers `nsid` (the lexicons declare more than a PDS serves). */
  registered(nsid: string): boolean
  /** The JSON body limit of the app (bytes). */
  jsonLimit: number
}

function methodOf(def: MethodDef): string {
  return def.type === 'procedure' ? 'POST' : 'GET'
}

/** Node's limit on the request line plus headers. */
const MAX_HEADER_BYTES = 16 * 1024

/** Generate the next case (deterministic given the generator's state). */
export function generateCase(rng: Rng, target: FuzzTarget): FuzzCase {
  const c = generate(rng, target)
  if (c.kind === 'http') {
    const size = c.path.length + JSON.stringify(c.headers).length
    // Past the parser's limit the answer is 431, whatever the request was. Oversize HEADs go as GETs:
    // the parser error carries only the last chunk read, so a HEAD spanning several reads cannot be
    // told apart and gets the JSON body (client-error.ts); node:http then reports a parse error.
    if (size > MAX_HEADER_BYTES) {
      if (c.method === 'HEAD') c.method = 'GET'
      c.expect = { kind: 'status', status: 431, why: `request line and headers of ~${size} bytes` }
    } else if (size > MAX_HEADER_BYTES - 1024) c.expect = { kind: 'any' }
  }
  return c
}

function generate(rng: Rng, target: FuzzTarget): FuzzCase {
  const { account } = target
  const known = lexiconMethods.filter((m) => target.registered(m.nsid))
  const r = rng.next()

  // 6%: raw-socket malformed HTTP (the parser's answers, via the clientError handler).
  if (r < 0.06) return rawCase(rng, target)

  // 8%: unknown methods, any HTTP method: 501 MethodNotImplemented.
  if (r < 0.14) {
    const nsid = rng.pick(UNKNOWN_NSIDS)
    const method = rng.pick(['GET', 'POST', 'PUT', 'DELETE', 'PATCH'])
    return {
      kind: 'http',
      method,
      path: `/xrpc/${nsid}${encodeQuery(noisyParams(rng))}`,
      headers: {
        ...authHeaders(rng, account, true),
        ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
      },
      body: method === 'POST' || method === 'PUT' ? Buffer.from(JSON.stringify(randomJson(rng))) : undefined,
      nsid,
      expect: { kind: 'status', status: 501, error: 'MethodNotImplemented', why: 'unknown method' },
    }
  }

  // 4%: malformed XRPC paths: some 4xx JSON error.
  if (r < 0.18) {
    return {
      kind: 'http',
      method: rng.pick(['GET', 'POST']),
      path: rng.pick(BAD_PATHS) + encodeQuery(noisyParams(rng)),
      headers: authHeaders(rng, account, false),
      expect: { kind: 'any' },
    }
  }

  const def = rng.pick(known)
  const right = methodOf(def)

  // 8%: the wrong HTTP method on a known NSID: 405.
  if (r < 0.26) {
    const wrong = rng.pick(
      (def.type === 'procedure'
        ? ['GET', 'PUT', 'DELETE', 'PATCH']
        : ['POST', 'PUT', 'DELETE', 'PATCH']
      ).filter((m) => m !== right),
    )
    const withBody = wrong !== 'GET'
    return {
      kind: 'http',
      method: wrong,
      path: `/xrpc/${def.nsid}${encodeQuery(validParams(rng, def, account))}`,
      headers: {
        ...authHeaders(rng, account, false),
        ...(withBody ? { 'content-type': 'application/json' } : {}),
      },
      body: withBody ? Buffer.from('{}') : undefined,
      nsid: def.nsid,
      expect: { kind: 'status', status: 405, error: 'MethodNotAllowed', why: `${wrong} on a ${def.type}` },
    }
  }

  // 12%: one bad parameter on a known method (others valid): 400 InvalidRequest naming it.
  if (r < 0.38) {
    const withParams = known.filter((m) => m.type !== 'subscription' && m.params?.properties)
    const d = rng.pick(withParams)
    const props = Object.entries(d.params!.properties)
    const [name, schema] = rng.pick(props)
    const required = d.params!.required?.includes(name) ?? false
    const params = validParams(rng, d, account).filter(([k]) => k !== name)
    const bad = schema.type === 'array' ? badParamValue(rng, schema.items!) : badParamValue(rng, schema)
    if (bad === undefined && !required) return generate(rng, target)
    if (bad !== undefined) params.push([name, bad])
    const isProc = d.type === 'procedure'
    return {
      kind: 'http',
      method: methodOf(d),
      path: `/xrpc/${d.nsid}${encodeQuery(params)}`,
      headers: {
        ...authHeaders(rng, account, !DESTRUCTIVE.has(d.nsid)),
        ...(isProc ? { 'content-type': 'application/json' } : {}),
      },
      body: isProc ? Buffer.from('{}') : undefined,
      nsid: d.nsid,
      expect: {
        kind: 'status',
        status: 400,
        error: 'InvalidRequest',
        field: name,
        why: bad === undefined ? `missing required param ${name}` : `bad param ${name}=${bad.slice(0, 40)}`,
      },
    }
  }

  // 22%: bodies for JSON procedures that get past auth: malformed, oversize, wrong field types.
  if (r < 0.6) return bodyCase(rng, target)
  return anyCase(rng, target, known)
}

function bodyCase(rng: Rng, target: FuzzTarget): FuzzCase {
  const { account } = target
  {
    const nsid = rng.pick([...AUTHED_JSON, ...OPEN_JSON])
    const headers: Record<string, string> = AUTHED_JSON.includes(nsid)
      ? { authorization: `Bearer ${account.accessJwt}` }
      : {}
    const k = rng.next()
    if (k < 0.3) {
      const text = rng.pick(MALFORMED_JSON)
      const bytes = rng.chance(0.2)
        ? Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')])
        : Buffer.from(text)
      return {
        kind: 'http',
        method: 'POST',
        path: `/xrpc/${nsid}`,
        headers: { ...headers, 'content-type': 'application/json' },
        body: bytes,
        nsid,
        expect: { kind: 'status', status: 400, error: 'InvalidRequest', why: 'malformed JSON' },
      }
    }
    if (k < 0.45) {
      const size = target.jsonLimit + 1 + rng.int(200_000)
      const body = Buffer.from(JSON.stringify({ repo: account.did, pad: 'x'.repeat(size) }))
      const gzip = rng.chance(0.25)
      return {
        kind: 'http',
        method: 'POST',
        path: `/xrpc/${nsid}`,
        headers: {
          ...headers,
          'content-type': 'application/json',
          ...(gzip ? { 'content-encoding': 'gzip' } : {}),
        },
        body: gzip ? gzipSync(body) : body,
        nsid,
        expect: {
          kind: 'status',
          status: 413,
          why: `${gzip ? 'gzip ' : ''}JSON body of ${body.length} bytes`,
        },
      }
    }
    if (k < 0.55) {
      // CBOR where JSON is expected: 400 (wrong encoding), valid DAG-CBOR or not.
      const body = rng.chance(0.5)
        ? Buffer.from(dagCbor.encode({ a: 1, b: [1, 2] }))
        : rng.bytes(1 + rng.int(64))
      return {
        kind: 'http',
        method: 'POST',
        path: `/xrpc/${nsid}`,
        headers: {
          ...headers,
          'content-type': rng.pick(['application/cbor', 'application/vnd.ipld.dag-cbor']),
        },
        body,
        nsid,
        expect: {
          kind: 'status',
          status: 400,
          error: 'InvalidRequest',
          why: 'CBOR body for a JSON procedure',
        },
      }
    }
    if (k < 0.75) {
      const fields = BODY_FIELDS[nsid]!
      const [field, type] = rng.pick(Object.entries(fields))
      const base = plausibleBody(rng, nsid, account) as Record<string, unknown>
      if (rng.chance(0.4)) delete base[field]
      else base[field] = wrongTypeValue(rng, type)
      return {
        kind: 'http',
        method: 'POST',
        path: `/xrpc/${nsid}`,
        headers: { ...headers, 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify(base)),
        nsid,
        expect: {
          kind: 'status',
          status: 400,
          error: 'InvalidRequest',
          field,
          why: `${field} ${field in base ? `= ${JSON.stringify(base[field])}` : 'missing'}`,
        },
      }
    }
    // Plausible or random bodies: anything but a 5xx.
    return {
      kind: 'http',
      method: 'POST',
      path: `/xrpc/${nsid}`,
      headers: {
        ...headers,
        'content-type': rng.pick(['application/json', 'application/json; charset=utf-8']),
      },
      body: Buffer.from(JSON.stringify(jsonBody(rng, nsid, account))),
      nsid,
      expect: { kind: 'any' },
    }
  }
}

/** Anything on a known method: params valid or noisy, any body and content type, any auth. */
function anyCase(rng: Rng, target: FuzzTarget, known: MethodDef[]): FuzzCase {
  const { account } = target
  const def = rng.pick(known)
  const right = methodOf(def)
  const method = rng.chance(0.9) ? right : rng.pick(['HEAD', 'OPTIONS'])
  const params = rng.chance(0.7) ? validParams(rng, def, account) : noisyParams(rng)
  if (rng.chance(0.2)) params.push(...noisyParams(rng))
  const headers: Record<string, string> = authHeaders(rng, account, !DESTRUCTIVE.has(def.nsid))
  let body: Buffer | undefined
  if (method === 'POST') {
    const ct = rng.chance(0.6)
      ? def.input?.encoding === 'application/json'
        ? 'application/json'
        : (def.input?.encoding ?? 'application/json')
      : rng.pick(CONTENT_TYPES)
    if (ct && ct !== '*/*') headers['content-type'] = ct.includes('*') ? 'image/png' : ct
    const b = rng.next()
    if (b < 0.5) body = Buffer.from(JSON.stringify(jsonBody(rng, def.nsid, account)))
    else if (b < 0.6) body = Buffer.alloc(0)
    else if (b < 0.7) body = Buffer.from(rng.pick(MALFORMED_JSON))
    else if (b < 0.8) body = Buffer.from(dagCbor.encode({ x: randomString(rng), n: rng.int(100) }))
    else if (b < 0.9) body = rng.bytes(rng.int(4096))
    if (body && rng.chance(0.05)) {
      headers['content-encoding'] = rng.pick(['gzip', 'br', 'deflate', 'gzip, gzip'])
      if (headers['content-encoding'] === 'gzip' && rng.chance(0.5)) body = gzipSync(body)
    }
  } else if (rng.chance(0.05)) {
    body = Buffer.from('{"unexpected":"body"}')
    headers['content-type'] = 'application/json'
  }
  if (rng.chance(0.1))
    headers['atproto-proxy'] = rng.pick(['did:web:api.bsky.app#bsky_appview', 'garbage', '#x', ''])
  if (rng.chance(0.05)) headers['accept-encoding'] = 'gzip'
  if (method === 'OPTIONS') {
    headers.origin = 'https://fuzz.example'
    headers['access-control-request-method'] = right
  }
  return {
    kind: 'http',
    method,
    path: `/xrpc/${def.nsid}${encodeQuery(params)}`,
    headers,
    body,
    nsid: def.nsid,
    expect: { kind: 'any' },
  }
}

function rawCase(rng: Rng, target: FuzzTarget): FuzzCase {
  const nsid = 'com.atproto.server.describeServer'
  const host = 'Host: 127.0.0.1\r\n'
  const cases: Array<[string, string | Buffer, Expectation]> = [
    [
      'TE+CL',
      `POST /xrpc/com.atproto.server.createSession HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
      { kind: 'status', status: 400, error: 'InvalidRequest', why: 'Transfer-Encoding and Content-Length' },
    ],
    [
      'bad header byte',
      Buffer.concat([
        Buffer.from(`GET /xrpc/${nsid} HTTP/1.1\r\n${host}X-Bad: a`),
        Buffer.from([rng.pick([0, 1, 0x7f, 0x0b])]),
        Buffer.from('b\r\n\r\n'),
      ]),
      { kind: 'status', status: 400, error: 'InvalidRequest', why: 'control byte in a header' },
    ],
    [
      'oversize headers',
      `GET /xrpc/${nsid} HTTP/1.1\r\n${host}X-Big: ${'a'.repeat(17_000 + rng.int(20_000))}\r\n\r\n`,
      { kind: 'status', status: 431, why: 'headers over 16 KiB' },
    ],
    [
      'oversize URL',
      `GET /xrpc/${nsid}?q=${'a'.repeat(17_000 + rng.int(10_000))} HTTP/1.1\r\n${host}\r\n`,
      { kind: 'status', status: 431, why: 'request line over 16 KiB' },
    ],
    [
      'garbage',
      Buffer.concat([rng.bytes(1 + rng.int(200)), Buffer.from('\r\n\r\n')]),
      { kind: 'status', status: 400, error: 'InvalidRequest', why: 'not HTTP' },
    ],
    [
      'bad chunk',
      `POST /xrpc/com.atproto.server.createSession HTTP/1.1\r\n${host}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
      { kind: 'status', status: 400, error: 'InvalidRequest', why: 'bad chunk size' },
    ],
    [
      'bad content-length',
      `POST /xrpc/com.atproto.server.createSession HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: ${rng.pick(['-1', 'abc', '1 2', '0x10'])}\r\n\r\n{}`,
      { kind: 'status', status: 400, error: 'InvalidRequest', why: 'bad Content-Length' },
    ],
    [
      'space in header name',
      `GET /xrpc/${nsid} HTTP/1.1\r\n${host}Bad Name: x\r\n\r\n`,
      { kind: 'status', status: 400, error: 'InvalidRequest', why: 'space in a header name' },
    ],
    [
      'declared huge blob',
      `POST /xrpc/com.atproto.repo.uploadBlob HTTP/1.1\r\n${host}Authorization: Bearer ${target.account.accessJwt}\r\nContent-Type: image/png\r\nContent-Length: ${200 * 1024 * 1024}\r\nConnection: close\r\n\r\n${'x'.repeat(100)}`,
      { kind: 'status', status: 413, why: 'declared 200 MiB blob' },
    ],
    [
      'HTTP/1.0 no host',
      `GET /xrpc/${UNKNOWN_NSIDS[0]} HTTP/1.0\r\n\r\n`,
      { kind: 'status', status: 501, error: 'MethodNotImplemented', why: 'HTTP/1.0 unknown method' },
    ],
    [
      'unicode in path',
      Buffer.concat([
        Buffer.from('GET /xrpc/'),
        Buffer.from('☃.x.y', 'utf8'),
        Buffer.from(` HTTP/1.1\r\n${host}\r\n`),
      ]),
      { kind: 'any' },
    ],
  ]
  const [label, bytes, expect] = rng.pick(cases)
  const path = /^[A-Z]+ \/xrpc\/([A-Za-z0-9.-]+)/.exec(typeof bytes === 'string' ? bytes : '')?.[1]
  return {
    kind: 'raw',
    label,
    nsid: path,
    bytes: typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes,
    expect,
  }
}
