import type { CID } from '../data/cid.js'
import type { BlockMap } from './block-map.js'
import { type ByteSource, type ReadCarOptions, readCar } from './car.js'
import { type Commit, decodeCommit, type SignatureVerifier, verifyCommitSignature } from './commit.js'
import { CarError, InvalidCommitError, InvalidMstNodeError, MissingBlocksError } from './errors.js'
import { decodeNode, type MstNode } from './mst-node.js'

/** Options of repo verification. */
export interface VerifyRepoOptions {
  /** Expected repo DID (checked against the commit). */
  did?: string
  /** `did:key` of the signing key; requires `verify`. */
  didKey?: string
  verify?: SignatureVerifier
  /** Require every record block to be present (default true). */
  ensureLeaves?: boolean
  car?: ReadCarOptions
}

/** A verified repository: its commit and every record in key order. */
export interface VerifiedRepo {
  commit: Commit
  commitCid: CID
  records: { key: string; cid: CID; bytes: Uint8Array | undefined }[]
}

/** Read a repo CAR and verify it fully (see {@link verifyRepo}). */
export async function verifyRepoCar(source: ByteSource, opts: VerifyRepoOptions = {}): Promise<VerifiedRepo> {
  const { roots, blocks } = await readCar(source, opts.car)
  if (roots.length === 0) throw new CarError('repo CAR has no root')
  return verifyRepo(blocks, roots[0], opts)
}

/**
 * Verify a repository held in `blocks`: the commit decodes, names the expected DID and (given a key)
 * its signature verifies; the MST is exactly the canonical tree for its keys (every node canonically
 * encoded, keys ordered and in their parent's range, every key at its node's depth, no skipped levels,
 * no empty nodes except intermediate ones); and every record is present.
 */
export async function verifyRepo(
  blocks: BlockMap,
  commitCid: CID,
  opts: VerifyRepoOptions = {},
): Promise<VerifiedRepo> {
  const commitBytes = blocks.get(commitCid)
  if (!commitBytes) throw new MissingBlocksError('commit', [commitCid])
  const commit = decodeCommit(commitBytes)
  if (opts.did !== undefined && commit.did !== opts.did) {
    throw new InvalidCommitError(`commit is for ${commit.did}, expected ${opts.did}`)
  }
  if (opts.didKey !== undefined) {
    if (!opts.verify) throw new InvalidCommitError('verifying a signature needs a verify function')
    if (!(await verifyCommitSignature(commit, opts.didKey, opts.verify))) {
      throw new InvalidCommitError('commit signature does not verify')
    }
  }
  const ensureLeaves = opts.ensureLeaves ?? true
  const records: VerifiedRepo['records'] = []
  const load = (cid: CID, layer: number | undefined): MstNode => {
    const bytes = blocks.get(cid)
    if (!bytes) throw new MissingBlocksError('MST node', [cid])
    return decodeNode(cid, bytes, layer)
  }
  const walk = (node: MstNode, lo: string | null, hi: string | null): void => {
    const n = node.keys.length
    if (n > 0 && ((lo !== null && node.keys[0] <= lo) || (hi !== null && node.keys[n - 1] >= hi))) {
      throw new InvalidMstNodeError(`MST node ${node.cid} has keys outside its parent's range`)
    }
    for (let i = 0; i <= n; i++) {
      const link = node.slots[i]
      if (link !== null) {
        if (node.layer === 0) throw new InvalidMstNodeError(`MST node ${node.cid} links below depth 0`)
        const sub = load(link as CID, node.layer - 1)
        if (sub.isEmpty) throw new InvalidMstNodeError(`MST node ${sub.cid} is an empty non-root node`)
        walk(sub, i === 0 ? lo : node.keys[i - 1], i === n ? hi : node.keys[i])
      }
      if (i < n) {
        const cid = node.vals[i]
        const bytes = blocks.get(cid)
        if (!bytes && ensureLeaves) throw new MissingBlocksError('record', [cid])
        records.push({ key: node.keys[i], cid, bytes })
      }
    }
  }
  const root = load(commit.data, undefined)
  if (root.keys.length === 0 && root.slots[0] !== null) {
    throw new InvalidMstNodeError(`MST root ${root.cid} is an empty node pointing to a sub-tree`)
  }
  walk(root, null, null)
  return { commit, commitCid, records }
}
