import type { CID } from '../data/cid.js'
import { BlockMap } from './block-map.js'
import { MemoryBlockStore } from './block-store.js'
import { type Commit, decodeCommit, type SignatureVerifier, verifyCommitSignature } from './commit.js'
import { InvalidCommitError, InversionError, RepoError } from './errors.js'
import { child, lowerBound, Mst } from './mst.js'
import type { MstNode } from './mst-node.js'

/** A record operation as carried by a `#commit` event (`prev` is required for update and delete). */
export interface RecordOp {
  action: 'create' | 'update' | 'delete'
  path: string
  cid: CID | null
  prev?: CID | null
}

/**
 * The MST nodes a consumer needs to invert operations on `keys` (sync 1.1 covering proof): for each
 * key, the nodes on the path from the root to the key (or to where it would be), and when the key is
 * present, the right-most spine of its left neighbour sub-tree and the left-most spine of its right
 * neighbour sub-tree (deleting the key merges those two).
 */
export async function coveringProof(tree: Mst, keys: Iterable<string>): Promise<BlockMap> {
  const out = new BlockMap()
  for (const key of keys) {
    const nodes = await tree.loader.run(() => proofNodes(tree, key))
    for (const n of nodes) out.set(n.cid, n.bytes)
  }
  return out
}

function proofNodes(tree: Mst, key: string): MstNode[] {
  const { loader } = tree
  const nodes: MstNode[] = []
  let node: MstNode | null = tree.root
  while (node !== null) {
    nodes.push(node)
    const i = lowerBound(node.keys, key)
    if (node.keys[i] === key) {
      for (let s = child(loader, node, i); s !== null; s = child(loader, s, s.keys.length)) nodes.push(s)
      for (let s = child(loader, node, i + 1); s !== null; s = child(loader, s, 0)) nodes.push(s)
      break
    }
    node = child(loader, node, i)
  }
  return nodes
}

/**
 * Apply `ops` in reverse to `tree` (a create becomes a delete, and so on), checking that each op's
 * claimed values match the tree. Throws {@link InversionError} on any mismatch or missing proof node.
 */
export async function invertOps(tree: Mst, ops: readonly RecordOp[]): Promise<Mst> {
  let t = tree
  try {
    for (let i = ops.length - 1; i >= 0; i--) {
      const op = ops[i]
      if (op.action === 'create') {
        const [next, prev] = await t.remove(op.path)
        if (prev === null || op.cid === null || !prev.equals(op.cid)) throw mismatch(op)
        t = next
      } else {
        if (!op.prev) throw new InversionError(`${op.action} of ${op.path} lacks prev`)
        const [next, prev] = await t.put(op.path, op.prev)
        if (
          op.action === 'update' ? prev === null || op.cid === null || !prev.equals(op.cid) : prev !== null
        ) {
          throw mismatch(op)
        }
        t = next
      }
    }
  } catch (err) {
    if (err instanceof InversionError || !(err instanceof RepoError)) throw err
    throw new InversionError(`cannot invert ops: ${err.message}`, { cause: err })
  }
  return t
}

function mismatch(op: RecordOp): InversionError {
  return new InversionError(`op ${op.action} ${op.path} does not match the tree`)
}

/** Inputs of {@link verifyCommitProof}: the fields of a `#commit` event, with its CAR slice read. */
export interface CommitProofInput {
  /** Blocks of the event's CAR slice. */
  blocks: BlockMap
  /** The commit CID (the CAR's first root / the event's `commit`). */
  commit: CID
  ops: readonly RecordOp[]
  /** The previous MST root the event claims (`prevData`). */
  prevData: CID | null
  /** When given with `verify`, the commit signature is checked against this `did:key`. */
  didKey?: string
  verify?: SignatureVerifier
}

/**
 * Sync 1.1 check of a `#commit` event: the commit decodes (and its signature verifies when a key is
 * given), the ops' new values are in the tree, and inverting the ops on the partial tree built only
 * from the slice's blocks gives back `prevData`. Returns the commit and the inverted root.
 */
export async function verifyCommitProof(input: CommitProofInput): Promise<{ commit: Commit; prevRoot: CID }> {
  const commitBytes = input.blocks.get(input.commit)
  if (!commitBytes) throw new InvalidCommitError(`commit block ${input.commit} is not in the slice`)
  const commit = decodeCommit(commitBytes)
  if (input.didKey && input.verify && !(await verifyCommitSignature(commit, input.didKey, input.verify))) {
    throw new InvalidCommitError('commit signature does not verify')
  }
  let tree: Mst
  try {
    tree = await Mst.load(new MemoryBlockStore(input.blocks), commit.data)
  } catch (err) {
    throw new InversionError(`cannot load the new tree from the slice: ${(err as Error).message}`, {
      cause: err,
    })
  }
  const inverted = await invertOps(tree, input.ops)
  const prevRoot = inverted.rootCid
  if (input.prevData === null || !prevRoot.equals(input.prevData)) {
    throw new InversionError(`inverted root ${prevRoot} does not match prevData ${input.prevData}`)
  }
  return { commit, prevRoot }
}
