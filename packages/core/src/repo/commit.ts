import type { Signer } from '../crypto/keys.js'
import { decodeCbor, encodeCbor } from '../data/cbor.js'
import { CID } from '../data/cid.js'
import { InvalidCommitError } from './errors.js'
import { cidForDagCbor } from './mst-node.js'

/** A commit before signing. `version` is 3; `prev` is present and virtually always null. */
export interface UnsignedCommit {
  did: string
  version: 3
  data: CID
  rev: string
  prev: CID | null
}

/** A signed repository commit. */
export interface Commit extends UnsignedCommit {
  sig: Uint8Array
}

/** What signs commits (the crypto module's key pairs and @atproto/crypto key pairs both fit). */
export type { Signer }

/** Verifies a signature over `msg` by the key of a `did:key` (the crypto module's `verifySignature`). */
export type SignatureVerifier = (didKey: string, msg: Uint8Array, sig: Uint8Array) => Promise<boolean>

/** DAG-CBOR bytes that are signed: the commit without `sig`. */
export function unsignedCommitBytes(commit: UnsignedCommit): Uint8Array {
  const { did, version, data, rev, prev } = commit
  return encodeCbor({ did, version, data, rev, prev })
}

/** Sign an unsigned commit. */
export async function signCommit(unsigned: UnsignedCommit, signer: Signer): Promise<Commit> {
  const sig = await signer.sign(unsignedCommitBytes(unsigned))
  return { ...unsigned, sig }
}

/** Encode a signed commit and compute its CID. */
export function encodeCommit(commit: Commit): { cid: CID; bytes: Uint8Array } {
  const { did, version, data, rev, prev, sig } = commit
  const bytes = encodeCbor({ did, version, data, rev, prev, sig })
  return { cid: cidForDagCbor(bytes), bytes }
}

/** Decode and validate a version 3 commit block. */
export function decodeCommit(bytes: Uint8Array): Commit {
  let obj: any
  try {
    obj = decodeCbor(bytes)
  } catch (err) {
    throw new InvalidCommitError(`commit is not valid DAG-CBOR: ${(err as Error).message}`)
  }
  if (typeof obj !== 'object' || obj === null) throw new InvalidCommitError('commit is not a map')
  const data = CID.asCID(obj.data)
  const prev = obj.prev === null || obj.prev === undefined ? null : CID.asCID(obj.prev)
  if (
    obj.version !== 3 ||
    typeof obj.did !== 'string' ||
    typeof obj.rev !== 'string' ||
    !data ||
    (obj.prev != null && !prev) ||
    !('prev' in obj) ||
    !(obj.sig instanceof Uint8Array)
  ) {
    throw new InvalidCommitError('commit does not match the v3 commit schema')
  }
  return { did: obj.did, version: 3, data, rev: obj.rev, prev, sig: obj.sig }
}

/** Whether the commit's signature verifies against `didKey` (a `did:key:…` of the signing key). */
export async function verifyCommitSignature(
  commit: Commit,
  didKey: string,
  verify: SignatureVerifier,
): Promise<boolean> {
  try {
    return await verify(didKey, unsignedCommitBytes(commit), commit.sig)
  } catch {
    return false
  }
}
