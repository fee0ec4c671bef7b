import { base58btc } from 'multiformats/bases/base58'
import { didKeyFromRawPublicKey, parseMultikey } from '../plc/keys.js'
import { InvalidDidDocumentError } from './errors.js'
import { isValidHandle, normalizeHandle } from './syntax.js'

/** A verification method of a DID document. */
export interface VerificationMethod {
  id: string
  type: string
  controller: string
  publicKeyMultibase?: string
  [k: string]: unknown
}

/** A service entry of a DID document. */
export interface DidService {
  id: string
  type: string
  serviceEndpoint: string | Record<string, unknown>
  [k: string]: unknown
}

/** A DID document, as far as atproto reads it. */
export interface DidDocument {
  '@context'?: unknown
  id: string
  alsoKnownAs?: string[]
  verificationMethod?: VerificationMethod[]
  service?: DidService[]
  [k: string]: unknown
}

/** The atproto view of a DID document. */
export interface AtprotoData {
  did: string
  /** Claimed handle (not yet verified bidirectionally), lowercase. */
  handle?: string
  /** The `#atproto` signing key as a did:key. */
  signingKey?: string
  /** The `#atproto_pds` endpoint URL. */
  pds?: string
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Check that `value` is a DID document whose `id` is `did`.
 * @throws {InvalidDidDocumentError}
 */
export function parseDidDocument(value: unknown, did: string): DidDocument {
  const bad = (why: string) => new InvalidDidDocumentError(did, why)
  if (!isObj(value)) throw bad('not an object')
  if (value.id !== did) throw bad(`id ${JSON.stringify(value.id)} does not match`)
  if (value.alsoKnownAs !== undefined) {
    if (!Array.isArray(value.alsoKnownAs) || !value.alsoKnownAs.every((a) => typeof a === 'string')) {
      throw bad('alsoKnownAs must be an array of strings')
    }
  }
  if (value.verificationMethod !== undefined) {
    if (!Array.isArray(value.verificationMethod)) throw bad('verificationMethod must be an array')
    for (const vm of value.verificationMethod) {
      if (
        !isObj(vm) ||
        typeof vm.id !== 'string' ||
        typeof vm.type !== 'string' ||
        typeof vm.controller !== 'string'
      ) {
        throw bad('verificationMethod entries need string id, type and controller')
      }
      if (vm.publicKeyMultibase !== undefined && typeof vm.publicKeyMultibase !== 'string') {
        throw bad('publicKeyMultibase must be a string')
      }
    }
  }
  if (value.service !== undefined) {
    if (!Array.isArray(value.service)) throw bad('service must be an array')
    for (const s of value.service) {
      if (!isObj(s) || typeof s.id !== 'string' || typeof s.type !== 'string') {
        throw bad('service entries need string id and type')
      }
      if (typeof s.serviceEndpoint !== 'string' && !isObj(s.serviceEndpoint)) {
        throw bad('serviceEndpoint must be a string or an object')
      }
    }
  }
  return value as DidDocument
}

/** `#frag` or `<did>#frag`: both id forms are allowed by the spec. */
const idMatches = (id: string, did: string, fragment: string) =>
  id === `#${fragment}` || id === `${did}#${fragment}`

/** The first syntactically valid `at://` handle in `alsoKnownAs`, lowercase. */
export function getHandle(doc: DidDocument): string | undefined {
  for (const aka of doc.alsoKnownAs ?? []) {
    if (!aka.startsWith('at://')) continue
    const h = aka.slice(5)
    if (isValidHandle(h)) return normalizeHandle(h)
  }
  return undefined
}

/** Decode a verification method into a did:key (Multikey or the legacy 2019 types), or undefined. */
export function verificationMethodToDidKey(vm: VerificationMethod): string | undefined {
  const mb = vm.publicKeyMultibase
  if (typeof mb !== 'string') return undefined
  try {
    if (vm.type === 'Multikey') {
      parseMultikey(mb) // validates curve and point
      return `did:key:${mb}`
    }
    const alg =
      vm.type === 'EcdsaSecp256r1VerificationKey2019'
        ? 'ES256'
        : vm.type === 'EcdsaSecp256k1VerificationKey2019'
          ? 'ES256K'
          : null
    if (!alg) return undefined
    return didKeyFromRawPublicKey(alg, base58btc.decode(mb))
  } catch {
    return undefined
  }
}

/** The verification method `#<fragment>` (default `atproto`) as a did:key. */
export function getVerificationKey(doc: DidDocument, fragment = 'atproto'): string | undefined {
  for (const vm of doc.verificationMethod ?? []) {
    if (!idMatches(vm.id, doc.id, fragment)) continue
    const key = verificationMethodToDidKey(vm)
    if (key) return key
  }
  return undefined
}

/** The endpoint of service `#<fragment>` with the given `type`, when it is an http(s) URL. */
export function getServiceEndpoint(doc: DidDocument, fragment: string, type: string): string | undefined {
  for (const s of doc.service ?? []) {
    if (!idMatches(s.id, doc.id, fragment) || s.type !== type) continue
    const ep = s.serviceEndpoint
    if (
      typeof ep !== 'string' ||
      !(ep.startsWith('https://') || ep.startsWith('http://')) ||
      !URL.canParse(ep)
    ) {
      continue
    }
    return ep
  }
  return undefined
}

/** The PDS endpoint (`#atproto_pds`, `AtprotoPersonalDataServer`). */
export const getPdsEndpoint = (doc: DidDocument): string | undefined =>
  getServiceEndpoint(doc, 'atproto_pds', 'AtprotoPersonalDataServer')

/** Extract handle, signing key and PDS from a DID document. */
export function getAtprotoData(doc: DidDocument): AtprotoData {
  return {
    did: doc.id,
    handle: getHandle(doc),
    signingKey: getVerificationKey(doc),
    pds: getPdsEndpoint(doc),
  }
}
