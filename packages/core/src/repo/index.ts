/**
 * The atproto repository: MST, commits, CAR, diffs and sync 1.1 proofs.
 * @module
 */

export * from './block-cache.js'
export * from './block-map.js'
export * from './block-store.js'
export * from './car.js'
export * from './commit.js'
export * from './diff.js'
export * from './errors.js'
export * from './export.js'
export * from './mst.js'
export {
  cidForDagCbor,
  commonPrefixLength,
  decodeNode,
  encodeNode,
  ensureValidMstKey,
  isValidMstKey,
  keyHeight,
  keyHeightOfString,
  type Link,
  MstNode,
} from './mst-node.js'
export * from './proof.js'
export * from './repo.js'
export * from './tid.js'
export * from './verify.js'
