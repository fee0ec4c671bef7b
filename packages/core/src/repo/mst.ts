import { type CID, cidString } from '../data/cid.js'
import type { BlockStore } from './block-store.js'
import { InvalidMstNodeError, MissingBlocksError, MstOperationError } from './errors.js'
import { decodeNode, ensureValidMstKey, keyHeight, MstNode } from './mst-node.js'

/** Control-flow signal (not an Error, so cheap): a node needed by a synchronous pass is not loaded yet. */
class NeedNode {
  constructor(
    readonly cid: CID,
    readonly layer: number,
  ) {}
}

/**
 * Nodes decoded from a block store, shared by every tree version derived from one load, so tree
 * operations run synchronously over loaded nodes and only pause to fetch what is missing.
 */
export class NodeLoader {
  private readonly nodes = new Map<string, MstNode>()

  constructor(readonly store: BlockStore) {}

  /** The loaded node for `cid`, or a thrown {@link NeedNode} signal. */
  resolve(cid: CID, layer: number): MstNode {
    const node = this.nodes.get(cidString(cid))
    if (node === undefined) throw new NeedNode(cid, layer)
    return node
  }

  /** Whether the node for `cid` is loaded. */
  has(cid: CID): boolean {
    return this.nodes.has(cidString(cid))
  }

  /** Fetch and decode nodes (one round trip for the whole set; none for nodes decoded before). */
  async load(wanted: { cid: CID; layer: number | undefined }[]): Promise<void> {
    const decoded = this.store.decodedNodes
    let fetch = wanted
    if (decoded) {
      fetch = []
      for (const w of wanted) {
        const node = decoded.getNode(w.cid, w.layer)
        if (node && cachedNodeFits(node, w.layer)) this.nodes.set(cidString(w.cid), node)
        // Anything else (not cached, or invalid where it is met) takes the full decode, which refuses
        // the invalid with its reason.
        else fetch.push(w)
      }
      if (fetch.length === 0) return
    }
    const { blocks, missing } = await this.store.getBlocks(fetch.map((w) => w.cid))
    if (missing.length > 0) throw new MissingBlocksError('MST node', missing)
    for (const { cid, layer } of fetch) {
      const node = decodeNode(cid, blocks.get(cid)!, layer)
      if (layer !== undefined && node.isEmpty)
        throw new InvalidMstNodeError(`MST node ${cid} is an empty non-root node`)
      if (node.layer === 0 && node.slots.some((s) => s !== null)) {
        throw new InvalidMstNodeError(`MST node ${cid} links below depth 0`)
      }
      this.nodes.set(cidString(cid), node)
      decoded?.addNode(node)
    }
  }

  /** Run a synchronous pass, loading whatever node it stops on, until it completes. */
  async run<T>(fn: () => T): Promise<T> {
    for (;;) {
      try {
        return fn()
      } catch (err) {
        if (!(err instanceof NeedNode)) throw err
        await this.load([{ cid: err.cid, layer: err.layer }])
      }
    }
  }
}

/**
 * Whether a cached copy (already at the asked depth) is what a full decode at `layer` would accept: a
 * node with keys only at its keys' depth; a node without keys only below the root, above depth 0,
 * with a sub-tree.
 */
function cachedNodeFits(node: MstNode, layer: number | undefined): boolean {
  if (node.keys.length > 0) return layer === undefined || keyHeight(node.keys[0]!) === layer
  return layer !== undefined && layer > 0 && node.slots[0] !== null
}

/** Sub-tree in slot `i` of `node` (loading it memoizes the node into the slot; same content). */
export function child(loader: NodeLoader, node: MstNode, i: number): MstNode | null {
  const link = node.slots[i]
  if (link === null || link instanceof MstNode) return link
  const loaded = loader.resolve(link, node.layer - 1)
  node.slots[i] = loaded
  return loaded
}

/** First index whose key is >= `key`. */
export function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0
  let hi = keys.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (keys[mid] < key) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** A record-level change to apply to the tree. `cid` null deletes. */
export interface MstWrite {
  key: string
  cid: CID | null
}

const EMPTY_ROOT = () => new MstNode(0, [], [], [null])

/**
 * A Merkle Search Tree version (immutable: every write returns a new `Mst` sharing unchanged nodes).
 * Writes run synchronously over loaded nodes and defer hashing: CIDs are computed once, when asked
 * for, for only the nodes that changed. Nodes are loaded lazily (and in batches) from the store.
 */
export class Mst {
  private constructor(
    readonly loader: NodeLoader,
    readonly root: MstNode,
  ) {}

  /** An empty tree over `store`. */
  static create(store: BlockStore): Mst {
    return new Mst(new NodeLoader(store), EMPTY_ROOT())
  }

  /** The tree whose root node has CID `cid` (the root is fetched; the rest loads on demand). */
  static async load(store: BlockStore, cid: CID, loader = new NodeLoader(store)): Promise<Mst> {
    await loader.load([{ cid, layer: undefined }])
    const root = loader.resolve(cid, 0)
    if (root.keys.length === 0 && root.slots[0] !== null) {
      throw new InvalidMstNodeError(`MST root ${cid} is an empty node pointing to a sub-tree`)
    }
    return new Mst(loader, root)
  }

  /** Root CID (hashes changed nodes on first call). */
  get rootCid(): CID {
    return this.root.cid
  }

  get store(): BlockStore {
    return this.loader.store
  }

  private with(root: MstNode): Mst {
    return root === this.root ? this : new Mst(this.loader, root)
  }

  /** Value stored at `key`, or null. */
  async get(key: string): Promise<CID | null> {
    return this.loader.run(() => this.getSync(key))
  }

  private getSync(key: string): CID | null {
    const h = keyHeight(key)
    let node: MstNode | null = this.root
    while (node !== null && node.layer >= h) {
      const i = lowerBound(node.keys, key)
      if (node.layer === h) return node.keys[i] === key ? node.vals[i] : null
      node = child(this.loader, node, i)
    }
    return null
  }

  /** Insert a new key; throws {@link MstOperationError} if it already exists. */
  async add(key: string, cid: CID): Promise<Mst> {
    const [tree, prev] = await this.put(key, cid)
    if (prev !== null) throw new MstOperationError(`key already exists: ${key}`)
    return tree
  }

  /** Change the value of an existing key; throws {@link MstOperationError} if it does not exist. */
  async update(key: string, cid: CID): Promise<Mst> {
    const [tree, prev] = await this.put(key, cid)
    if (prev === null) throw new MstOperationError(`cannot update missing key: ${key}`)
    return tree
  }

  /** Remove a key; throws {@link MstOperationError} if it does not exist. */
  async delete(key: string): Promise<Mst> {
    const [tree, prev] = await this.remove(key)
    if (prev === null) throw new MstOperationError(`cannot delete missing key: ${key}`)
    return tree
  }

  /** Upsert: returns the new tree and the previous value (null if the key was new). */
  async put(key: string, cid: CID): Promise<[Mst, CID | null]> {
    ensureValidMstKey(key)
    return this.loader.run(() => this.putSync(key, cid))
  }

  /** Remove if present: returns the new tree and the removed value (null if absent). */
  async remove(key: string): Promise<[Mst, CID | null]> {
    return this.loader.run(() => this.removeSync(key))
  }

  /**
   * Apply many writes in one pass: the paths of all keys are prefetched level by level (one store
   * round trip per tree level, not per write), then the writes run synchronously. Returns the new
   * tree and, per write, the previous value.
   */
  async applyWrites(writes: readonly MstWrite[]): Promise<{ tree: Mst; prevs: (CID | null)[] }> {
    for (const w of writes) if (w.cid !== null) ensureValidMstKey(w.key)
    await this.prefetch(writes.map((w) => w.key))
    let tree: Mst = this
    const prevs: (CID | null)[] = []
    for (const w of writes) {
      const t = tree
      const [next, prev] = await this.loader.run(() =>
        w.cid === null ? t.removeSync(w.key) : t.putSync(w.key, w.cid),
      )
      tree = next
      prevs.push(prev)
    }
    return { tree, prevs }
  }

  /** Load the nodes on the paths to `keys`, one batched fetch per level. */
  async prefetch(keys: readonly string[]): Promise<void> {
    for (;;) {
      const wanted = new Map<string, { cid: CID; layer: number }>()
      for (const key of keys) {
        let node: MstNode | null = this.root
        const h = keyHeight(key)
        while (node !== null && node.layer > h) {
          const i = lowerBound(node.keys, key)
          try {
            node = child(this.loader, node, i)
          } catch (err) {
            if (!(err instanceof NeedNode)) throw err
            wanted.set(cidString(err.cid), { cid: err.cid, layer: err.layer })
            node = null
          }
        }
      }
      if (wanted.size === 0) return
      await this.loader.load([...wanted.values()])
    }
  }

  /** Synchronous upsert over loaded nodes (throws NeedNode when it reaches an unloaded one). */
  putSync(key: string, cid: CID): [Mst, CID | null] {
    const h = keyHeight(key)
    const out = { prev: null as CID | null }
    const root = this.root
    if (root.isEmpty) return [this.with(new MstNode(h, [key], [cid], [null, null])), null]
    if (h > root.layer) {
      const [a, b] = this.split(root, key)
      const top = new MstNode(h, [key], [cid], [wrap(a, h - 1), wrap(b, h - 1)])
      return [this.with(top), null]
    }
    return [this.with(this.insert(root, key, h, cid, out)), out.prev]
  }

  /** Synchronous removal over loaded nodes. */
  removeSync(key: string): [Mst, CID | null] {
    const out = { prev: null as CID | null }
    let root = this.delete_(this.root, key, keyHeight(key), out)
    if (out.prev === null) return [this, null]
    if (root === null) return [this.with(EMPTY_ROOT()), out.prev]
    // The root must hold entries: drop empty nodes left on top.
    while (root.keys.length === 0 && root.slots[0] !== null) root = child(this.loader, root, 0)!
    return [this.with(root), out.prev]
  }

  private insert(node: MstNode, key: string, h: number, cid: CID, out: { prev: CID | null }): MstNode {
    const i = lowerBound(node.keys, key)
    if (node.layer === h) {
      if (node.keys[i] === key) {
        out.prev = node.vals[i]
        if (out.prev.equals(cid)) return node
        const vals = node.vals.slice()
        vals[i] = cid
        return new MstNode(h, node.keys, vals, node.slots.slice())
      }
      const [a, b] = this.split(child(this.loader, node, i), key)
      const keys = node.keys.slice()
      keys.splice(i, 0, key)
      const vals = node.vals.slice()
      vals.splice(i, 0, cid)
      const slots = node.slots.slice()
      slots.splice(i, 1, a, b)
      return new MstNode(h, keys, vals, slots)
    }
    const gap = child(this.loader, node, i)
    const next = gap === null ? chain(node.layer - 1, key, h, cid) : this.insert(gap, key, h, cid, out)
    if (next === gap) return node
    const slots = node.slots.slice()
    slots[i] = next
    return new MstNode(node.layer, node.keys, node.vals, slots)
  }

  /** Split a sub-tree around `key` (absent from it) into the parts below and above, same layer. */
  private split(node: MstNode | null, key: string): [MstNode | null, MstNode | null] {
    if (node === null) return [null, null]
    const i = lowerBound(node.keys, key)
    const gap = child(this.loader, node, i)
    const [a, b] = this.split(gap, key)
    const n = node.keys.length
    if (i === 0 && a === null)
      return [
        null,
        b === gap ? node : new MstNode(node.layer, node.keys, node.vals, [b, ...node.slots.slice(1)]),
      ]
    if (i === n && b === null)
      return [
        a === gap ? node : new MstNode(node.layer, node.keys, node.vals, [...node.slots.slice(0, n), a]),
        null,
      ]
    const left = new MstNode(node.layer, node.keys.slice(0, i), node.vals.slice(0, i), [
      ...node.slots.slice(0, i),
      a,
    ])
    const right = new MstNode(node.layer, node.keys.slice(i), node.vals.slice(i), [
      b,
      ...node.slots.slice(i + 1),
    ])
    return [prune(left), prune(right)]
  }

  private delete_(node: MstNode, key: string, h: number, out: { prev: CID | null }): MstNode | null {
    if (h > node.layer) return node
    const i = lowerBound(node.keys, key)
    if (node.layer === h) {
      if (node.keys[i] !== key) return node
      out.prev = node.vals[i]
      const merged = this.merge(child(this.loader, node, i), child(this.loader, node, i + 1))
      const keys = node.keys.slice()
      keys.splice(i, 1)
      const vals = node.vals.slice()
      vals.splice(i, 1)
      const slots = node.slots.slice()
      slots.splice(i, 2, merged)
      return prune(new MstNode(h, keys, vals, slots))
    }
    const gap = child(this.loader, node, i)
    if (gap === null) return node
    const next = this.delete_(gap, key, h, out)
    if (next === gap) return node
    const slots = node.slots.slice()
    slots[i] = next
    return prune(new MstNode(node.layer, node.keys, node.vals, slots))
  }

  /** Concatenate two adjacent sub-trees of the same layer (all keys of `a` sort before `b`'s). */
  private merge(a: MstNode | null, b: MstNode | null): MstNode | null {
    if (a === null) return b
    if (b === null) return a
    const n = a.keys.length
    const mid = this.merge(child(this.loader, a, n), child(this.loader, b, 0))
    return new MstNode(
      a.layer,
      [...a.keys, ...b.keys],
      [...a.vals, ...b.vals],
      [...a.slots.slice(0, n), mid, ...b.slots.slice(1)],
    )
  }

  /** Every (key, value) in key order, loading nodes as needed. */
  async list(): Promise<{ key: string; cid: CID }[]> {
    const out: { key: string; cid: CID }[] = []
    const visit = async (node: MstNode): Promise<void> => {
      for (let i = 0; i <= node.keys.length; i++) {
        const sub = await this.loader.run(() => child(this.loader, node, i))
        if (sub) await visit(sub)
        if (i < node.keys.length) out.push({ key: node.keys[i], cid: node.vals[i] })
      }
    }
    await visit(this.root)
    return out
  }
}

/** A node with no entries and no sub-tree disappears. */
function prune(node: MstNode): MstNode | null {
  return node.keys.length === 0 && node.slots[0] === null ? null : node
}

/** Lift a sub-tree to `layer` with empty intermediate nodes (links must not skip levels). */
function wrap(node: MstNode | null, layer: number): MstNode | null {
  if (node === null) return null
  let out = node
  for (let l = node.layer + 1; l <= layer; l++) out = new MstNode(l, [], [], [out])
  return out
}

/** A fresh sub-tree at `layer` holding one key of height `h` (<= layer). */
function chain(layer: number, key: string, h: number, cid: CID): MstNode {
  return wrap(new MstNode(h, [key], [cid], [null, null]), layer)!
}
