/**
 * OAuth scopes of the atproto profile: `atproto`, the transitional scopes and the granular permissions
 * of permission.md (`repo`, `blob`, `rpc`, `account`, `identity`, `include`), parsed from their string
 * syntax, plus the checks resource endpoints call ({@link checkScope}, {@link assertScope}).
 */
import { ForbiddenError } from '../xrpc/xrpc-error.js'

export type RepoAction = 'create' | 'update' | 'delete'
export type AccountAttr = 'email' | 'repo' | 'status'
export type AccountAction = 'read' | 'manage'

/** A parsed scope string. */
export type ParsedScope =
  | { resource: 'atproto' }
  | { resource: 'transition:generic' }
  | { resource: 'transition:email' }
  | { resource: 'transition:chat.bsky' }
  | { resource: 'repo'; collection: string[]; action: RepoAction[] }
  | { resource: 'blob'; accept: string[] }
  | { resource: 'rpc'; lxm: string[]; aud: string }
  | { resource: 'account'; attr: AccountAttr; action: AccountAction }
  | { resource: 'identity'; attr: 'handle' | '*' }
  /** A permission set reference; it grants nothing until expanded (permission sets resolution). */
  | { resource: 'include'; nsid: string; aud?: string }

const STATIC = new Set(['atproto', 'transition:generic', 'transition:email', 'transition:chat.bsky'])
const NSID_RE =
  /^[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+\.[a-zA-Z][a-zA-Z0-9]{0,62}$/
const DID_REF_RE = /^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]#[a-zA-Z0-9._~-]+$/
const MIME_RE = /^(?:\*\/\*|[a-z0-9!#$&^_.+-]+\/(?:\*|[a-z0-9!#$&^_.+-]+))$/i
const POSITIONAL: Record<string, string> = {
  repo: 'collection',
  rpc: 'lxm',
  blob: 'accept',
  account: 'attr',
  identity: 'attr',
  include: 'nsid',
}
const ALLOWED_PARAMS: Record<string, string[]> = {
  repo: ['collection', 'action'],
  rpc: ['lxm', 'aud'],
  blob: ['accept'],
  account: ['attr', 'action'],
  identity: ['attr'],
  include: ['nsid', 'aud'],
}
const isNsid = (s: string) => s.length <= 317 && NSID_RE.test(s)

function decode(s: string): string | null {
  try {
    return decodeURIComponent(s)
  } catch {
    return null
  }
}

/** Parse one scope string; null when it is not valid (syntax or semantics). */
export function parseScope(scope: string): ParsedScope | null {
  if (!/^[\x21-\x7e]+$/.test(scope)) return null
  if (STATIC.has(scope)) return { resource: scope } as ParsedScope
  const q = scope.indexOf('?')
  const head = q === -1 ? scope : scope.slice(0, q)
  const colon = head.indexOf(':')
  const resource = colon === -1 ? head : head.slice(0, colon)
  const positionalName = POSITIONAL[resource]
  if (!positionalName) return null
  const params = new Map<string, string[]>()
  if (colon !== -1) {
    const value = decode(head.slice(colon + 1))
    if (!value) return null
    params.set(positionalName, [value])
  }
  if (q !== -1) {
    for (const pair of scope.slice(q + 1).split('&')) {
      if (pair === '') continue
      const eq = pair.indexOf('=')
      if (eq <= 0) return null
      const name = decode(pair.slice(0, eq))
      const value = decode(pair.slice(eq + 1))
      if (!name || !value) return null
      if (!ALLOWED_PARAMS[resource]!.includes(name)) return null
      // A positional value may not be repeated as a named parameter.
      if (colon !== -1 && name === positionalName) return null
      params.set(name, [...(params.get(name) ?? []), value])
    }
  }
  const one = (name: string): string | undefined | null => {
    const v = params.get(name)
    if (!v) return undefined
    return v.length === 1 ? v[0]! : null
  }
  switch (resource) {
    case 'repo': {
      const collection = params.get('collection')
      if (!collection?.every((c) => c === '*' || isNsid(c))) return null
      const action = params.get('action') ?? ['create', 'update', 'delete']
      if (!action.every((a) => a === 'create' || a === 'update' || a === 'delete')) return null
      return { resource, collection: [...new Set(collection)], action: [...new Set(action)] as RepoAction[] }
    }
    case 'rpc': {
      const lxm = params.get('lxm')
      const aud = one('aud')
      if (!lxm?.every((l) => l === '*' || isNsid(l)) || !aud) return null
      if (aud !== '*' && !DID_REF_RE.test(aud)) return null
      // "any method on any service" cannot be granted by a single permission.
      if (aud === '*' && lxm.includes('*')) return null
      return { resource, lxm: [...new Set(lxm)], aud }
    }
    case 'blob': {
      const accept = params.get('accept')
      if (!accept?.every((a) => MIME_RE.test(a))) return null
      return { resource, accept: [...new Set(accept)] }
    }
    case 'account': {
      const attr = one('attr')
      const action = one('action') ?? 'read'
      if (attr !== 'email' && attr !== 'repo' && attr !== 'status') return null
      if (action !== 'read' && action !== 'manage') return null
      return { resource, attr, action }
    }
    case 'identity': {
      const attr = one('attr')
      if (attr !== 'handle' && attr !== '*') return null
      return { resource, attr }
    }
    case 'include': {
      const nsid = one('nsid')
      const aud = one('aud')
      if (!nsid || !isNsid(nsid) || aud === null) return null
      if (aud !== undefined && !DID_REF_RE.test(aud)) return null
      return aud === undefined ? { resource, nsid } : { resource, nsid, aud }
    }
  }
  return null
}

/** Split a space-separated scope parameter into its distinct values. */
export function splitScope(scope: string | undefined | null): string[] {
  return [...new Set((scope ?? '').split(' ').filter(Boolean))]
}

/** What an endpoint is about to do, for {@link checkScope}. */
export type ScopeRequirement =
  | { type: 'repo'; collection: string; action: RepoAction }
  | { type: 'blob'; mime: string }
  | { type: 'rpc'; lxm: string; aud: string }
  | { type: 'account'; attr: AccountAttr; action: AccountAction }
  | { type: 'identity'; attr: 'handle' | '*' }

function mimeMatches(pattern: string, mime: string): boolean {
  const m = mime.toLowerCase().split(';')[0]!.trim()
  const p = pattern.toLowerCase()
  if (p === '*/*') return true
  if (p.endsWith('/*')) return m.startsWith(p.slice(0, -1))
  return p === m
}

/** Granted permissions of a token, pre-parsed once so per-request checks are cheap. */
export class ScopePermissions {
  readonly scopes: readonly string[]
  readonly parsed: readonly ParsedScope[]
  private readonly has: Set<string>

  constructor(scope: string | readonly string[]) {
    this.scopes = typeof scope === 'string' ? splitScope(scope) : [...new Set(scope)]
    this.has = new Set(this.scopes)
    this.parsed = this.scopes.map(parseScope).filter((s): s is ParsedScope => s !== null)
  }

  /** Whether the scope string itself was granted (e.g. `transition:email`). */
  includes(scope: string): boolean {
    return this.has.has(scope)
  }

  /** Whether the permissions allow `req`. Nothing is allowed without the `atproto` scope. */
  allows(req: ScopeRequirement): boolean {
    if (!this.has.has('atproto')) return false
    const generic = this.has.has('transition:generic')
    switch (req.type) {
      case 'repo':
        if (generic) return true
        return this.parsed.some(
          (p) =>
            p.resource === 'repo' &&
            (p.collection.includes('*') || p.collection.includes(req.collection)) &&
            p.action.includes(req.action),
        )
      case 'blob':
        if (generic) return true
        return this.parsed.some(
          (p) => p.resource === 'blob' && p.accept.some((a) => mimeMatches(a, req.mime)),
        )
      case 'rpc': {
        // transition:generic covers every method but DMs; chat.bsky needs both transitional scopes.
        if (generic) {
          const chat = req.lxm.startsWith('chat.bsky.')
          if (!chat || this.has.has('transition:chat.bsky')) return true
        }
        return this.parsed.some(
          (p) =>
            p.resource === 'rpc' &&
            (p.aud === '*' || p.aud === req.aud) &&
            (p.lxm.includes('*') || p.lxm.includes(req.lxm)),
        )
      }
      case 'account':
        if (req.attr === 'email' && req.action === 'read' && this.has.has('transition:email')) return true
        return this.parsed.some(
          (p) =>
            p.resource === 'account' &&
            p.attr === req.attr &&
            (p.action === 'manage' || req.action === 'read'),
        )
      case 'identity':
        return this.parsed.some((p) => p.resource === 'identity' && (p.attr === '*' || p.attr === req.attr))
    }
  }
}

/** Whether `scopes` (a scope string, a list, or pre-parsed permissions) allow `req`. */
export function checkScope(
  scopes: string | readonly string[] | ScopePermissions,
  req: ScopeRequirement,
): boolean {
  const perms = scopes instanceof ScopePermissions ? scopes : new ScopePermissions(scopes)
  return perms.allows(req)
}

/** Like {@link checkScope} but throws a 403 `InsufficientScope` XRPC error naming what was missing. */
export function assertScope(
  scopes: string | readonly string[] | ScopePermissions,
  req: ScopeRequirement,
): void {
  if (checkScope(scopes, req)) return
  const what =
    req.type === 'repo'
      ? `repo:${req.collection}?action=${req.action}`
      : req.type === 'blob'
        ? `blob:${req.mime}`
        : req.type === 'rpc'
          ? `rpc:${req.lxm}?aud=${req.aud}`
          : req.type === 'account'
            ? `account:${req.attr}?action=${req.action}`
            : `identity:${req.attr}`
  throw new ForbiddenError(`Missing required scope "${what}"`, 'InsufficientScope')
}
