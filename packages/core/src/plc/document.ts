import { parseDidKey } from './keys.js'
import type { PlcDidDocument, PlcDocumentData } from './types.js'

const CONTEXT_BY_ALG = {
  ES256: 'https://w3id.org/security/suites/ecdsa-2019/v1',
  ES256K: 'https://w3id.org/security/suites/secp256k1-2019/v1',
} as const

/** Render PLC document data as the W3C DID document a directory serves at `/{did}`. */
export function formatDidDoc(data: PlcDocumentData): PlcDidDocument {
  const context = ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1']
  const verificationMethod: PlcDidDocument['verificationMethod'] = []
  for (const [id, key] of Object.entries(data.verificationMethods)) {
    let extra: string | undefined
    try {
      extra = CONTEXT_BY_ALG[parseDidKey(key).jwtAlg]
    } catch {
      extra = undefined // unknown key types are listed without a suite context
    }
    if (extra && !context.includes(extra)) context.push(extra)
    verificationMethod.push({
      id: `${data.did}#${id}`,
      type: 'Multikey',
      controller: data.did,
      publicKeyMultibase: key.replace(/^did:key:/, ''),
    })
  }
  const service = Object.entries(data.services).map(([id, s]) => ({
    id: `#${id}`,
    type: s.type,
    serviceEndpoint: s.endpoint,
  }))
  return { '@context': context, id: data.did, alsoKnownAs: data.alsoKnownAs, verificationMethod, service }
}
