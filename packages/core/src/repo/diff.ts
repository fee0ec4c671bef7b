import { type CID, cidString } from '../data/cid.js'
import { BlockMap } from './block-map.js'
import type { Mst, NodeLoader } from './mst.js'
import { MstNode } from './mst-node.js'

/** Record-level and block-level difference between two tree versions. */
export interface MstDiff {
  adds: { key: string; cid: CID }[]
  updates: { key: string; prev: CID; cid: CID }[]
  deletes: { key: string; prev: CID }[]
  /** MST node blocks of the new tree that the old tree does not have. */
  newNodes: BlockMap
  /** The same nodes, decoded (for caches of decoded nodes). */
  newNodeList: MstNode[]
  /** MST node CIDs of the old tree that the new tree no longer has. */
  removedNodes: CID[]
}

type Item = MstNode | CID

/**
 * Diff two trees by walking them level by level from the top, cancelling identical sub-trees (same
 * CID) on the way, so the cost is proportional to what changed, not to the tree size. Sound because
 * a node's layer is fixed by its content: a shared sub-tree always meets itself on the same level.
 * `prev` null diffs against the empty tree.
 */
export async function diffMst(prev: Mst | null, next: Mst): Promise<MstDiff> {
  const out: MstDiff = {
    adds: [],
    updates: [],
    deletes: [],
    newNodes: new BlockMap(),
    newNodeList: [],
    removedNodes: [],
  }
  const prevLeaves = new Map<string, CID>()
  const nextLeaves = new Map<string, CID>()
  const prevRoot = prev?.root ?? null
  let layer = Math.max(prevRoot?.layer ?? 0, next.root.layer)
  let a: Item[] = []
  let b: Item[] = []
  for (; layer >= 0; layer--) {
    if (prevRoot && prevRoot.layer === layer) a.push(prevRoot)
    if (next.root.layer === layer) b.push(next.root)
    if (a.length === 0 && b.length === 0) continue
    const aIds = new Map(a.map((x) => [cidString(cidOf(x)), x]))
    const bIds = new Map(b.map((x) => [cidString(cidOf(x)), x]))
    for (const id of [...aIds.keys()]) {
      if (bIds.delete(id)) aIds.delete(id)
    }
    const aNodes = await resolveAll(prev?.loader, [...aIds.values()], layer)
    const bNodes = await resolveAll(next.loader, [...bIds.values()], layer)
    a = []
    b = []
    for (const node of aNodes) {
      out.removedNodes.push(node.cid)
      expand(node, a, prevLeaves)
    }
    for (const node of bNodes) {
      out.newNodes.set(node.cid, node.bytes)
      out.newNodeList.push(node)
      expand(node, b, nextLeaves)
    }
  }
  for (const [key, cid] of nextLeaves) {
    const old = prevLeaves.get(key)
    if (old === undefined) out.adds.push({ key, cid })
    else if (!old.equals(cid)) out.updates.push({ key, prev: old, cid })
  }
  for (const [key, old] of prevLeaves) if (!nextLeaves.has(key)) out.deletes.push({ key, prev: old })
  return out
}

function cidOf(x: Item): CID {
  return x instanceof MstNode ? x.cid : x
}

function expand(node: MstNode, children: Item[], leaves: Map<string, CID>): void {
  for (const s of node.slots) if (s !== null) children.push(s)
  for (let i = 0; i < node.keys.length; i++) leaves.set(node.keys[i], node.vals[i])
}

async function resolveAll(loader: NodeLoader | undefined, items: Item[], layer: number): Promise<MstNode[]> {
  const missing = items.filter((x) => !(x instanceof MstNode) && !loader!.has(x)) as CID[]
  if (missing.length > 0) await loader!.load(missing.map((cid) => ({ cid, layer })))
  return items.map((x) => (x instanceof MstNode ? x : loader!.resolve(x, layer)))
}
