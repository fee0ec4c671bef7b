/**
 * A start-up check for apps that create the atproto tables with their own Prisma migrations
 * (`migrations: 'app'`): Prisma's defaults give MySQL case-insensitive VARCHAR(191) columns and give
 * PostgreSQL the database's (often linguistic) collation, under which distinct record keys merge or sort
 * unlike the reference. The shipped `*_binary_keys` migration fixes that; this check refuses to start
 * without it rather than corrupt data at the first mixed-case or long record key.
 */
import type { PrismaClientLike, PrismaProvider } from './client.js'

/** What is wrong with the key columns, or null when they compare and sort by bytes at full length. */
export async function keyColumnProblem(
  db: PrismaClientLike,
  provider: PrismaProvider,
): Promise<string | null> {
  if (provider === 'mysql') {
    const rows = await db.$queryRawUnsafe<Array<Record<string, unknown>>>(
      `SELECT COLLATION_NAME AS c, CHARACTER_MAXIMUM_LENGTH AS len FROM information_schema.columns
       WHERE table_schema = DATABASE() AND table_name = 'atproto_record' AND column_name = 'rkey'`,
    )
    const row = rows[0]
    if (!row) return null // no table: the existence check reports it
    const collation = String(row.c ?? '')
    const length = Number(row.len ?? 0)
    if (!collation.endsWith('_bin') || length < 512) {
      return `atproto_record.rkey is ${collation || 'unknown collation'} VARCHAR(${length}), but record keys are case-sensitive and up to 512 characters`
    }
    return null
  }
  if (provider === 'postgresql') {
    const rows = await db.$queryRawUnsafe<Array<Record<string, unknown>>>(
      `SELECT COALESCE(a.attcollation::regcollation::text, '') AS c,
              (SELECT datcollate FROM pg_database WHERE datname = current_database()) AS db,
              (SELECT datlocprovider FROM pg_database WHERE datname = current_database())::text AS provider
       FROM pg_attribute a JOIN pg_class t ON t.oid = a.attrelid
       WHERE t.relname = 'atproto_record' AND a.attname = 'rkey' AND t.relnamespace = to_regnamespace(current_schema())`,
    )
    const row = rows[0]
    if (!row) return null
    const collation = String(row.c).replaceAll('"', '')
    if (collation === 'C' || collation === 'POSIX') return null
    // The column follows the database default: fine only when that is a byte order (libc C locale).
    const dbCollate = String(row.db ?? '')
    const byteOrderDb = row.provider === 'c' && /^(C|POSIX)(\.|$)/i.test(dbCollate)
    if (collation === 'default' && byteOrderDb) return null
    return `atproto_record.rkey sorts by collation "${collation === 'default' ? dbCollate || 'default' : collation}", but atproto keys sort by bytes (COLLATE "C")`
  }
  return null
}

/** How to fix a {@link keyColumnProblem} in an app that owns its migrations. */
export function keyColumnFix(provider: PrismaProvider): string {
  return `Add the fix as one of your migrations: \`npx prisma migrate dev --create-only --name atproto_binary_keys\`, then \`npx next-atproto-prisma sql binary-keys --provider ${provider} > prisma/migrations/<that folder>/migration.sql\` and \`npx prisma migrate dev\`.`
}
