import { InvalidRequestError } from '../xrpc/xrpc-error.js'

/** Rules for the handles an app hands out under its own domains (community handles). */
export interface HandlePolicyOptions {
  /**
   * Domains the app gives handles under. `.forum.example` gives `alice.forum.example`; a name without the
   * leading dot (`example.org`) may also be taken whole as a handle. Case-insensitive.
   */
  domains: string[]
  /** Names refused as the first label (`admin`, `support`, …); defaults to a built-in list. */
  reserved?: Iterable<string>
  /** Length bounds of the first label; defaults 3 and 18, as the reference PDS. */
  minLength?: number
  maxLength?: number
}

/** Built-in reserved names: service, infrastructure and impersonation-prone labels. */
export const DEFAULT_RESERVED_HANDLES: readonly string[] = [
  'about',
  'abuse',
  'account',
  'accounts',
  'admin',
  'administrator',
  'api',
  'app',
  'atproto',
  'auth',
  'blog',
  'bsky',
  'bluesky',
  'dev',
  'did',
  'docs',
  'email',
  'feed',
  'feeds',
  'firehose',
  'help',
  'helpdesk',
  'host',
  'hostmaster',
  'info',
  'invalid',
  'login',
  'mail',
  'moderation',
  'moderator',
  'mod',
  'news',
  'noreply',
  'no-reply',
  'oauth',
  'official',
  'pds',
  'plc',
  'postmaster',
  'relay',
  'root',
  'security',
  'server',
  'settings',
  'signin',
  'signup',
  'staff',
  'status',
  'support',
  'sysadmin',
  'system',
  'team',
  'test',
  'www',
  'webmaster',
  'xrpc',
]

/** Result of {@link HandlePolicy.classify}: a handle under one of our domains, or someone else's. */
export type HandleClass = { kind: 'service'; domain: string } | { kind: 'external' }

const HANDLE_RE = /^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/

/** Validates handles against an app's domains and naming rules. */
export class HandlePolicy {
  readonly domains: string[]
  readonly #reserved: Set<string>
  readonly #min: number
  readonly #max: number

  constructor(options: HandlePolicyOptions) {
    this.domains = options.domains.map((d) => d.toLowerCase())
    this.#reserved = new Set([...(options.reserved ?? DEFAULT_RESERVED_HANDLES)].map((r) => r.toLowerCase()))
    this.#min = options.minLength ?? 3
    this.#max = options.maxLength ?? 18
  }

  /** Which of our domains a handle falls under, if any. */
  classify(handle: string): HandleClass {
    const h = handle.toLowerCase()
    for (const domain of this.domains) {
      const suffix = domain.startsWith('.') ? domain : `.${domain}`
      if (h.endsWith(suffix) || h === suffix.slice(1)) return { kind: 'service', domain }
    }
    return { kind: 'external' }
  }

  /**
   * Normalize (lower case) and check a requested handle. Service handles must be one label under one of
   * our domains, within the length bounds and not reserved. External handles pass here; the caller must
   * verify they resolve to the account's DID. Throws InvalidRequestError with the reference's error names.
   */
  check(handle: string): { handle: string } & HandleClass {
    const h = handle.toLowerCase()
    if (h.length > 253 || !HANDLE_RE.test(h)) throw new InvalidRequestError('Invalid handle', 'InvalidHandle')
    const cls = this.classify(h)
    if (cls.kind === 'external') return { handle: h, ...cls }
    const suffix = cls.domain.startsWith('.') ? cls.domain : `.${cls.domain}`
    if (h === suffix.slice(1)) {
      if (cls.domain.startsWith('.')) throw new InvalidRequestError('Invalid handle', 'InvalidHandle')
      return { handle: h, ...cls }
    }
    const front = h.slice(0, -suffix.length)
    if (front.includes('.')) {
      throw new InvalidRequestError('Invalid characters in handle', 'InvalidHandle')
    }
    if (front.length < this.#min) throw new InvalidRequestError('Handle too short', 'InvalidHandle')
    if (front.length > this.#max) throw new InvalidRequestError('Handle too long', 'InvalidHandle')
    if (this.#reserved.has(front)) throw new InvalidRequestError('Reserved handle', 'HandleNotAvailable')
    return { handle: h, ...cls }
  }
}
