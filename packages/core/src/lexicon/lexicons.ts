/**
 * A set of lexicon documents and the validation of data against them: records, XRPC params, inputs,
 * outputs and subscription messages. Each definition is compiled on first use and kept.
 */
import { isValidNsid, isValidRecordKey, isValidTid } from '../syntax/identifiers.js'
import {
  type Check,
  type CheckResolver,
  compileField,
  type Failure,
  failurePath,
  isObject,
  refUri,
} from './compile.js'
import { assertValidLexiconDoc } from './doc-check.js'
import { InvalidLexiconError, LexiconNotFoundError, ValidationError } from './errors.js'
import { compileParams, type ParamsDecoder } from './params.js'
import type { LexDef, LexiconDoc, RecordKeyType } from './types.js'

interface Entry {
  def: LexDef
  docId: string
}

type Body = { encoding?: string; schema?: LexDef } | undefined

const toError = (root: string, f: Failure) => new ValidationError(`${failurePath(root, f)} ${f.message}`)

/** Definition types a `ref` may not point at; a union's variants must be objects or records. */
const NOT_REFERABLE = new Set(['token', 'query', 'procedure', 'subscription', 'permission-set'])

/** Lexicon documents by NSID, with compiled validators. */
export class Lexicons implements CheckResolver {
  readonly #docs = new Map<string, LexiconDoc>()
  readonly #defs = new Map<string, Entry>()
  readonly #checks = new Map<string, Check>()
  readonly #params = new Map<string, ParamsDecoder | null>()
  readonly #bodies = new Map<string, Check | null>()

  /** Load `docs`; each is checked ({@link assertValidLexiconDoc}) and must have a distinct id. */
  constructor(docs: Iterable<unknown> = []) {
    for (const doc of docs) this.add(doc)
  }

  /** Add a document. Throws InvalidLexiconError for an invalid or duplicate document. */
  add(doc: unknown): void {
    assertValidLexiconDoc(doc)
    if (this.#docs.has(doc.id)) throw new InvalidLexiconError(`${doc.id} has already been loaded`)
    this.#docs.set(doc.id, doc)
    for (const [name, def] of Object.entries(doc.defs)) {
      this.#defs.set(name === 'main' ? doc.id : `${doc.id}#${name}`, { def, docId: doc.id })
    }
    // Compiled checks resolve references lazily, so nothing compiled so far is stale.
  }

  /** The document of `nsid`. */
  get(nsid: string): LexiconDoc | undefined {
    return this.#docs.get(nsid)
  }

  /** Every loaded document. */
  docs(): IterableIterator<LexiconDoc> {
    return this.#docs.values()
  }

  /** The definition named by `uri` (`nsid`, `nsid#name`, `nsid#main`), if loaded. */
  getDef(uri: string): LexDef | undefined {
    return this.#defs.get(refUri(uri, ''))?.def
  }

  #entry(uri: string): Entry {
    const e = this.#defs.get(uri)
    if (!e) throw new LexiconNotFoundError(`Lexicon not found: ${uri}`)
    return e
  }

  /** The compiled check of the definition at an absolute `uri` ({@link CheckResolver}). */
  checkOf(uri: string): Check {
    let check = this.#checks.get(uri)
    if (!check) {
      const { def, docId } = this.#entry(uri)
      if (NOT_REFERABLE.has(def.type))
        throw new InvalidLexiconError(`${uri} (a ${def.type}) can not hold data`)
      check = compileField(def, docId, this)
      this.#checks.set(uri, check)
    }
    return check
  }

  /**
   * Check that every reference resolves to a definition it may point at (lexicon.md: a `ref` never
   * names a token or an endpoint; union variants are objects or records). Throws InvalidLexiconError.
   */
  checkRefs(): void {
    const visit = (node: unknown, docId: string, path: string): void => {
      if (Array.isArray(node)) {
        for (const [i, n] of node.entries()) visit(n, docId, `${path}/${i}`)
        return
      }
      if (!isObject(node)) return
      if (node.type === 'ref' && typeof node.ref === 'string')
        this.#assertTarget(node.ref, docId, path, false)
      if (node.type === 'union' && Array.isArray(node.refs)) {
        for (const ref of node.refs as string[]) this.#assertTarget(ref, docId, path, true)
      }
      for (const [k, v] of Object.entries(node)) if (typeof v === 'object') visit(v, docId, `${path}/${k}`)
    }
    for (const doc of this.#docs.values()) {
      for (const [name, def] of Object.entries(doc.defs)) visit(def, doc.id, `${doc.id}#${name}`)
    }
  }

  #assertTarget(ref: string, docId: string, path: string, variant: boolean): void {
    const uri = refUri(ref, docId)
    const target = this.#defs.get(uri)?.def
    if (!target) throw new InvalidLexiconError(`${path} refers to ${uri}, which is not loaded`)
    const ok = variant
      ? target.type === 'object' || target.type === 'record'
      : !NOT_REFERABLE.has(target.type)
    if (!ok) throw new InvalidLexiconError(`${path} can not refer to ${uri} (a ${target.type})`)
  }

  /** Validate any value against the definition at `uri`, naming paths from `root`. */
  assertValid(uri: string, value: unknown, root = 'Value'): void {
    const f = this.checkOf(refUri(uri, ''))(value)
    if (f) throw toError(root, f)
  }

  /** Whether `nsid` is a loaded record type. */
  isRecordType(nsid: string): boolean {
    return this.#defs.get(nsid)?.def.type === 'record'
  }

  /** The record key type of record type `nsid`, if loaded. */
  recordKeyType(nsid: string): RecordKeyType | undefined {
    const def = this.#defs.get(nsid)?.def
    return def?.type === 'record' ? (def.key as RecordKeyType) : undefined
  }

  /**
   * Validate a record of type `nsid` (its `$type` must be `nsid`) and, when given, its record key
   * against the record's `key` type. Throws LexiconNotFoundError for an unknown type, ValidationError
   * for invalid data.
   */
  assertValidRecord(nsid: string, value: unknown, rkey?: string): void {
    const entry = this.#entry(nsid)
    if (entry.def.type !== 'record')
      throw new LexiconNotFoundError(`Lexicon not found: ${nsid} is not a record type`)
    if (!isObject(value)) throw new ValidationError('Record must be an object')
    if (typeof value.$type !== 'string') throw new ValidationError('Record/$type must be a string')
    if (value.$type !== nsid) throw new ValidationError(`Invalid $type: must be ${nsid}, got ${value.$type}`)
    if (rkey !== undefined) assertRecordKey(entry.def.key as RecordKeyType, rkey)
    const f = this.checkOf(nsid)(value)
    if (f) throw toError('Record', f)
  }

  #method(nsid: string): LexDef | undefined {
    const def = this.#defs.get(nsid)?.def
    return def && (def.type === 'query' || def.type === 'procedure' || def.type === 'subscription')
      ? def
      : undefined
  }

  /** The compiled params decoder of method `nsid`, or null when it has no lexicon or no parameters. */
  paramsDecoder(nsid: string): ParamsDecoder | null {
    let decoder = this.#params.get(nsid)
    if (decoder === undefined) {
      const def = this.#method(nsid)?.parameters as LexDef | undefined
      decoder = def ? compileParams(def, nsid, this) : null
      this.#params.set(nsid, decoder)
    }
    return decoder
  }

  /** Decode and validate the params of method `nsid`; a method without a lexicon gets them as strings. */
  assertValidParams(nsid: string, raw: URLSearchParams | Record<string, unknown>): Record<string, unknown> {
    const decoder = this.paramsDecoder(nsid)
    if (decoder) return decoder(raw)
    if (raw instanceof URLSearchParams) return Object.fromEntries(raw)
    return raw
  }

  #body(nsid: string, which: 'input' | 'output'): Check | null {
    const key = `${which} ${nsid}`
    let check = this.#bodies.get(key)
    if (check === undefined) {
      const body = this.#method(nsid)?.[which] as Body
      check =
        body?.schema && body.encoding === 'application/json' ? compileField(body.schema, nsid, this) : null
      this.#bodies.set(key, check)
    }
    return check
  }

  /** Validate the JSON input of procedure `nsid` (a no-op when its lexicon declares no JSON schema). */
  assertValidInput(nsid: string, body: unknown): void {
    const f = this.#body(nsid, 'input')?.(body)
    if (f) throw toError('Input', f)
  }

  /** Validate the JSON output of method `nsid` (a no-op when its lexicon declares no JSON schema). */
  assertValidOutput(nsid: string, body: unknown): void {
    const f = this.#body(nsid, 'output')?.(body)
    if (f) throw toError('Output', f)
  }

  /**
   * Validate a message of subscription `nsid`. Its `$type` may be short (`#commit`): at the top level
   * of subscription messages the variant is known from the frame header (lexicon.md).
   */
  assertValidMessage(nsid: string, message: unknown): void {
    const key = `message ${nsid}`
    let check = this.#bodies.get(key)
    if (check === undefined) {
      const schema = (this.#method(nsid)?.message as { schema?: LexDef } | undefined)?.schema
      check = schema ? compileObjectVariants(schema, nsid, this) : null
      this.#bodies.set(key, check)
    }
    const f = check?.(message)
    if (f) throw toError('Message', f)
  }
}

/** A subscription's message union, accepting `$type` relative to the subscription (`#commit`). */
function compileObjectVariants(schema: LexDef, nsid: string, r: CheckResolver): Check {
  const union = compileField(schema, nsid, r)
  return (v) => {
    if (isObject(v) && typeof v.$type === 'string' && v.$type.startsWith('#')) {
      return union({ ...v, $type: refUri(v.$type, nsid) })
    }
    return union(v)
  }
}

/** Check a record key against a record's `key` type (tid, nsid, any, literal:<value>). */
export function assertRecordKey(type: RecordKeyType, rkey: string): void {
  if (!isValidRecordKey(rkey)) throw new ValidationError(`Record key ${rkey} is not a valid record key`)
  if (type === 'tid') {
    if (!isValidTid(rkey)) throw new ValidationError(`Record key ${rkey} must be a TID`)
  } else if (type === 'nsid') {
    if (!isValidNsid(rkey)) throw new ValidationError(`Record key ${rkey} must be an NSID`)
  } else if (type.startsWith('literal:')) {
    const literal = type.slice(8)
    if (rkey !== literal) throw new ValidationError(`Record key must be ${literal}, got ${rkey}`)
  }
}
