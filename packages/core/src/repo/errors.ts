/** Base class of every repository error, so callers can catch them as a family. */
export class RepoError extends Error {
  override name = 'RepoError'
}

/** A key is not a valid MST key / repo path (`collection/rkey`, ASCII subset, <= 1024 chars). */
export class InvalidMstKeyError extends RepoError {
  override name = 'InvalidMstKeyError'
  constructor(readonly key: string) {
    super(`not a valid MST key: ${JSON.stringify(key.slice(0, 100))}`)
  }
}

/** Blocks the operation needed are not in the block store (or not in a partial tree's proof). */
export class MissingBlocksError extends RepoError {
  override name = 'MissingBlocksError'
  constructor(
    readonly context: string,
    readonly cids: readonly { toString(): string }[],
  ) {
    super(`missing ${context} blocks: ${cids.slice(0, 5).join(', ')}${cids.length > 5 ? ', …' : ''}`)
  }
}

/** A record operation does not apply: create of an existing key, update/delete of a missing one. */
export class MstOperationError extends RepoError {
  override name = 'MstOperationError'
}

/** An MST node block is malformed, non-canonical, or breaks the tree's shape invariants. */
export class InvalidMstNodeError extends RepoError {
  override name = 'InvalidMstNodeError'
}

/** A commit block is malformed or its signature does not verify. */
export class InvalidCommitError extends RepoError {
  override name = 'InvalidCommitError'
}

/** A CAR file is malformed: bad header, bad varint, truncated, oversize, or a block not matching its CID. */
export class CarError extends RepoError {
  override name = 'CarError'
}

/** Sync 1.1 inversion failed: the ops do not take the new tree back to `prevData`. */
export class InversionError extends RepoError {
  override name = 'InversionError'
}
