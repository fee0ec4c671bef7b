import type { BlockMap } from '../repo/block-map.js'
import type { RepoReader } from './types.js'

/**
 * Blocks written after `since` (every block when absent), in pages of about `pageSize`, for
 * streaming `getRepo`. Uses the adapter's paged {@link RepoReader.exportBlocks} when it has one;
 * otherwise a single page from {@link RepoReader.blocksSince} (revs are TIDs, so `''` precedes them all).
 */
export async function* exportRepoBlocks(
  reader: RepoReader,
  opts: { since?: string; pageSize?: number } = {},
): AsyncGenerator<BlockMap> {
  const limit = opts.pageSize ?? 500
  if (!reader.exportBlocks) {
    const all = await reader.blocksSince(opts.since ?? '')
    if (all.size > 0) yield all
    return
  }
  let after: string | undefined
  for (;;) {
    const page = await reader.exportBlocks({ since: opts.since, after, limit })
    if (page.blocks.size > 0) yield page.blocks
    if (page.cursor === null) return
    after = page.cursor
  }
}
