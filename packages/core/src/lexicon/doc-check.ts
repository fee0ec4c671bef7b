/**
 * Checks of lexicon documents themselves (lexicon.md): the file fields, which types may be named
 * definitions, primary types only as `main`, and the type-specific fields of every nested definition.
 * References are checked for syntax here; whether they resolve is {@link Lexicons.checkRefs}'s job,
 * since that needs the other documents.
 */
import { isValidLanguage } from '../syntax/formats.js'
import { isValidNsid, isValidRecordKey } from '../syntax/identifiers.js'
import { InvalidLexiconError } from './errors.js'
import { type LexiconDoc, PRIMARY_TYPES, STRING_FORMATS } from './types.js'

type Obj = Record<string, unknown>
type Context = 'property' | 'items' | 'params' | 'params-items' | 'body' | 'message'

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const DEF_NAME_RE = /^[a-zA-Z][a-zA-Z0-9_]*$/
const MIME_PATTERN_RE = /^([a-z0-9!#$&^_.+-]+\/([a-z0-9!#$&^_.+-]+|\*)|\*\/\*)$/i
const ERROR_NAME_RE = /^\S+$/

/** Named definitions: everything but sub-types and meta types (params, permission, ref, union, unknown). */
const NAMED_TYPES = new Set([
  ...PRIMARY_TYPES,
  'object',
  'array',
  'token',
  'string',
  'integer',
  'boolean',
  'bytes',
  'cid-link',
  'blob',
])
const FIELD_TYPES = new Set([
  'boolean',
  'integer',
  'string',
  'bytes',
  'cid-link',
  'blob',
  'array',
  'object',
  'ref',
  'union',
  'unknown',
])
const PARAM_TYPES = new Set(['boolean', 'integer', 'string'])
const ALLOWED: Record<Context, ReadonlySet<string>> = {
  property: FIELD_TYPES,
  items: FIELD_TYPES,
  params: new Set([...PARAM_TYPES, 'array']),
  // Items of a params array are scalars only.
  'params-items': PARAM_TYPES,
  body: new Set(['object', 'ref', 'union']),
  message: new Set(['union']),
}

function fail(path: string, message: string): never {
  throw new InvalidLexiconError(`${path} ${message}`)
}

function optional(def: Obj, path: string, key: string, kind: 'string' | 'boolean' | 'integer'): void {
  const v = def[key]
  if (v === undefined) return
  const ok = kind === 'integer' ? Number.isSafeInteger(v) : typeof v === kind
  if (!ok) fail(`${path}/${key}`, `must be ${kind === 'integer' ? 'an' : 'a'} ${kind}`)
}

function optionalLength(def: Obj, path: string, key: string): void {
  optional(def, path, key, 'integer')
  if (typeof def[key] === 'number' && (def[key] as number) < 0) fail(`${path}/${key}`, 'must not be negative')
}

function stringArray(def: Obj, path: string, key: string, required = false): string[] | undefined {
  const v = def[key]
  if (v === undefined) {
    if (required) fail(path, `must have the property "${key}"`)
    return undefined
  }
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string'))
    fail(`${path}/${key}`, 'must be an array of strings')
  return v as string[]
}

/** `#name`, `nsid` or `nsid#name`. */
export function isValidRef(ref: string): boolean {
  const hash = ref.indexOf('#')
  if (hash === -1) return isValidNsid(ref)
  const name = ref.slice(hash + 1)
  return DEF_NAME_RE.test(name) && (hash === 0 || isValidNsid(ref.slice(0, hash)))
}

function checkRefString(ref: unknown, path: string): void {
  if (typeof ref !== 'string' || !isValidRef(ref))
    fail(path, 'must be a reference (#name, nsid or nsid#name)')
}

function checkConstDefault(def: Obj, path: string, kind: 'string' | 'boolean' | 'integer'): void {
  optional(def, path, 'const', kind)
  optional(def, path, 'default', kind)
  if (def.const !== undefined && def.default !== undefined) fail(path, 'can not have both const and default')
}

function checkString(def: Obj, path: string): void {
  if (def.format !== undefined && (typeof def.format !== 'string' || !STRING_FORMATS.has(def.format))) {
    fail(`${path}/format`, `must be one of ${[...STRING_FORMATS].join(', ')}`)
  }
  for (const k of ['minLength', 'maxLength', 'minGraphemes', 'maxGraphemes']) optionalLength(def, path, k)
  stringArray(def, path, 'knownValues')
  stringArray(def, path, 'enum')
  checkConstDefault(def, path, 'string')
}

function checkInteger(def: Obj, path: string): void {
  optional(def, path, 'minimum', 'integer')
  optional(def, path, 'maximum', 'integer')
  if (
    def.enum !== undefined &&
    (!Array.isArray(def.enum) || !def.enum.every((n) => Number.isSafeInteger(n)))
  ) {
    fail(`${path}/enum`, 'must be an array of integers')
  }
  checkConstDefault(def, path, 'integer')
}

function checkObject(def: Obj, path: string): void {
  if (!isObj(def.properties)) fail(path, 'must have the property "properties" (an object)')
  for (const [name, prop] of Object.entries(def.properties))
    checkField(prop, `${path}/properties/${name}`, 'property')
  for (const key of ['required', 'nullable']) {
    for (const name of stringArray(def, path, key) ?? []) {
      if (key === 'required' && !(name in def.properties))
        fail(`${path}/required`, `names an undefined property "${name}"`)
    }
  }
}

function checkParams(def: unknown, path: string): void {
  if (!isObj(def) || def.type !== 'params') fail(path, 'must be a params definition')
  if (def.properties !== undefined && !isObj(def.properties)) fail(`${path}/properties`, 'must be an object')
  const props = (def.properties ?? {}) as Obj
  for (const [name, prop] of Object.entries(props)) checkField(prop, `${path}/properties/${name}`, 'params')
  for (const name of stringArray(def, path, 'required') ?? []) {
    if (!(name in props)) fail(`${path}/required`, `names an undefined property "${name}"`)
  }
}

function checkBody(def: unknown, path: string): void {
  if (!isObj(def)) fail(path, 'must be an object')
  if (typeof def.encoding !== 'string' || def.encoding === '') fail(path, 'must have a string "encoding"')
  optional(def, path, 'description', 'string')
  if (def.schema !== undefined) checkField(def.schema, `${path}/schema`, 'body')
}

function checkErrors(def: Obj, path: string): void {
  if (def.errors === undefined) return
  if (!Array.isArray(def.errors)) fail(`${path}/errors`, 'must be an array')
  def.errors.forEach((e, i) => {
    if (!isObj(e) || typeof e.name !== 'string' || !ERROR_NAME_RE.test(e.name)) {
      fail(`${path}/errors/${i}`, 'must have a "name" without white space')
    }
  })
}

function checkLangMap(def: Obj, path: string, key: string): void {
  const v = def[key]
  if (v === undefined) return
  if (!isObj(v)) fail(`${path}/${key}`, 'must be an object')
  for (const [lang, text] of Object.entries(v)) {
    if (!isValidLanguage(lang) || typeof text !== 'string')
      fail(`${path}/${key}/${lang}`, 'must map a language to a string')
  }
}

function checkPermission(def: unknown, path: string): void {
  if (!isObj(def) || def.type !== 'permission') fail(path, 'must be a permission definition')
  if (typeof def.resource !== 'string') fail(path, 'must have a string "resource"')
  // Unknown resources are allowed (and ignored by access control): the set grows over time.
  if (def.resource === 'repo') {
    const collections = stringArray(def, path, 'collection', true)!
    if (collections.length === 0 || !collections.every(isValidNsid))
      fail(`${path}/collection`, 'must list NSIDs')
    const actions = stringArray(def, path, 'action') ?? []
    if (
      !actions.every((a) => a === 'create' || a === 'update' || a === 'delete') ||
      new Set(actions).size !== actions.length
    ) {
      fail(`${path}/action`, 'must list distinct actions among create, update, delete')
    }
  } else if (def.resource === 'rpc') {
    const lxm = stringArray(def, path, 'lxm', true)!
    if (lxm.length === 0) fail(`${path}/lxm`, 'must not be empty')
    optional(def, path, 'aud', 'string')
    optional(def, path, 'inheritAud', 'boolean')
    if (def.aud === undefined && def.inheritAud !== true)
      fail(path, 'must have "aud" unless "inheritAud" is true')
    if (def.aud === '*' && lxm.includes('*')) fail(path, 'can not have both "aud" and "lxm" wildcards')
  }
}

function checkRecordKey(key: unknown, path: string): void {
  if (key === 'tid' || key === 'nsid' || key === 'any') return
  if (typeof key === 'string' && key.startsWith('literal:') && isValidRecordKey(key.slice(8))) return
  fail(`${path}/key`, 'must be tid, nsid, any or literal:<record key>')
}

/** Check one definition: the type is allowed in `context`, then its type-specific fields. */
function checkField(def: unknown, path: string, context: Context | 'named'): void {
  if (!isObj(def)) fail(path, 'must be an object')
  const type = def.type
  if (typeof type !== 'string') fail(path, 'must have a string "type"')
  const allowed = context === 'named' ? NAMED_TYPES : ALLOWED[context]
  if (!allowed.has(type)) fail(path, `can not be of type ${type} here`)
  optional(def, path, 'description', 'string')
  switch (type) {
    case 'boolean':
      checkConstDefault(def, path, 'boolean')
      break
    case 'integer':
      checkInteger(def, path)
      break
    case 'string':
      checkString(def, path)
      break
    case 'bytes':
      optionalLength(def, path, 'minLength')
      optionalLength(def, path, 'maxLength')
      break
    case 'blob':
      for (const p of stringArray(def, path, 'accept') ?? []) {
        if (!MIME_PATTERN_RE.test(p)) fail(`${path}/accept`, `has an invalid MIME pattern: ${p}`)
      }
      optionalLength(def, path, 'maxSize')
      break
    case 'array':
      if (def.items === undefined) fail(path, 'must have the property "items"')
      checkField(def.items, `${path}/items`, context === 'params' ? 'params-items' : 'items')
      optionalLength(def, path, 'minLength')
      optionalLength(def, path, 'maxLength')
      break
    case 'object':
      checkObject(def, path)
      break
    case 'ref':
      checkRefString(def.ref, `${path}/ref`)
      break
    case 'union': {
      const refs = stringArray(def, path, 'refs', true)!
      for (const [i, r] of refs.entries()) checkRefString(r, `${path}/refs/${i}`)
      optional(def, path, 'closed', 'boolean')
      if (def.closed === true && refs.length === 0) fail(path, 'is an empty closed union')
      break
    }
    case 'record':
      checkRecordKey(def.key, path)
      if (!isObj(def.record) || def.record.type !== 'object')
        fail(`${path}/record`, 'must be an object definition')
      checkObject(def.record, `${path}/record`)
      break
    case 'query':
    case 'procedure':
      if (def.parameters !== undefined) checkParams(def.parameters, `${path}/parameters`)
      if (def.output !== undefined) checkBody(def.output, `${path}/output`)
      if (def.input !== undefined) {
        if (type === 'query') fail(`${path}/input`, 'is not allowed on a query')
        checkBody(def.input, `${path}/input`)
      }
      checkErrors(def, path)
      break
    case 'subscription':
      if (def.parameters !== undefined) checkParams(def.parameters, `${path}/parameters`)
      if (!isObj(def.message)) fail(path, 'must have the property "message"')
      checkField(def.message.schema, `${path}/message/schema`, 'message')
      checkErrors(def, path)
      break
    case 'permission-set':
      for (const k of ['title', 'detail']) optional(def, path, k, 'string')
      checkLangMap(def, path, 'title:lang')
      checkLangMap(def, path, 'detail:lang')
      if (!Array.isArray(def.permissions)) fail(path, 'must have the array "permissions"')
      for (const [i, p] of def.permissions.entries()) checkPermission(p, `${path}/permissions/${i}`)
      break
  }
}

/**
 * Check a lexicon document against lexicon.md; throws {@link InvalidLexiconError} naming the field.
 * Unknown extra fields are tolerated (the language may grow).
 */
export function assertValidLexiconDoc(doc: unknown): asserts doc is LexiconDoc {
  if (!isObj(doc)) fail('Lexicon', 'must be an object')
  if (doc.lexicon !== 1) fail('Lexicon/lexicon', 'must be 1')
  if (typeof doc.id !== 'string' || !isValidNsid(doc.id)) fail('Lexicon/id', 'must be a valid NSID')
  optional(doc, 'Lexicon', 'revision', 'integer')
  optional(doc, 'Lexicon', 'description', 'string')
  if (!isObj(doc.defs)) fail(doc.id, 'must have the object "defs"')
  const names = Object.keys(doc.defs)
  if (names.length === 0) fail(doc.id, 'must have at least one definition')
  for (const name of names) {
    const path = `${doc.id}#${name}`
    if (!DEF_NAME_RE.test(name)) fail(path, 'has an invalid definition name')
    const def = doc.defs[name]
    if (name !== 'main' && isObj(def) && PRIMARY_TYPES.has(def.type as string)) {
      fail(
        path,
        'is a record, query, procedure, subscription or permission set: these must be the main definition',
      )
    }
    checkField(def, path, 'named')
  }
}
