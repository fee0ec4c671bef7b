import type { PrismaProvider, PrismaTx } from './client.js'

/** Quote an identifier for the provider. */
export function ident(provider: PrismaProvider, name: string): string {
  return provider === 'mysql' ? `\`${name}\`` : `"${name}"`
}

/** Positional placeholder `n` (1-based). */
export function param(provider: PrismaProvider, n: number): string {
  return provider === 'postgresql' ? `$${n}` : '?'
}

/**
 * Insert rows, skipping ones whose primary key exists. Raw SQL on purpose: it is the commit hot path
 * (about six blocks per write), `createMany` has no `skipDuplicates` on SQLite, and one multi-row
 * statement replaces one query-builder round trip per row.
 */
export async function insertIgnore(
  tx: PrismaTx,
  provider: PrismaProvider,
  table: string,
  columns: string[],
  rows: unknown[][],
): Promise<void> {
  if (rows.length === 0) return
  // Stay far below every driver's bound-parameter limit (SQLite: 32766, PostgreSQL: 65535).
  const perStatement = Math.max(1, Math.floor(900 / columns.length))
  for (let i = 0; i < rows.length; i += perStatement) {
    const chunk = rows.slice(i, i + perStatement)
    let n = 0
    const values = chunk.map((r) => `(${r.map(() => param(provider, ++n)).join(', ')})`).join(', ')
    const cols = columns.map((c) => ident(provider, c)).join(', ')
    const head = provider === 'mysql' ? 'INSERT IGNORE INTO' : 'INSERT INTO'
    const tail = provider === 'mysql' ? '' : ' ON CONFLICT DO NOTHING'
    await tx.$executeRawUnsafe(
      `${head} ${ident(provider, table)} (${cols}) VALUES ${values}${tail}`,
      ...chunk.flat(),
    )
  }
}
