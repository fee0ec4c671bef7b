/**
 * Apply the adapter's migrations (prisma/migrations/<provider>) through the app's own Prisma client,
 * recording them in a `_prisma_migrations` table shaped like Prisma's: no CLI and no schema-engine
 * binary needed, on SQLite, PostgreSQL and MySQL alike. For apps that let the adapter own its tables;
 * apps that manage the fragment in their own schema use `prisma migrate` instead.
 */
import { createHash, randomUUID } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { PrismaClientLike, PrismaProvider } from './client.js'

/** Folder of the shipped migrations of a provider. */
export function migrationsDir(provider: PrismaProvider): string {
  return fileURLToPath(new URL(`../../prisma/migrations/${provider}`, import.meta.url))
}

/** Names of the shipped migrations, in order. */
export function migrationNames(provider: PrismaProvider): string[] {
  return readdirSync(migrationsDir(provider), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
}

const TABLE_DDL: Record<PrismaProvider, string> = {
  sqlite: `CREATE TABLE IF NOT EXISTS "_prisma_migrations" ("id" TEXT PRIMARY KEY NOT NULL, "checksum" TEXT NOT NULL,
    "finished_at" DATETIME, "migration_name" TEXT NOT NULL, "logs" TEXT, "rolled_back_at" DATETIME,
    "started_at" DATETIME NOT NULL DEFAULT current_timestamp, "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0)`,
  postgresql: `CREATE TABLE IF NOT EXISTS "_prisma_migrations" ("id" VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum" VARCHAR(64) NOT NULL, "finished_at" TIMESTAMPTZ, "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ, "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(), "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`,
  mysql: `CREATE TABLE IF NOT EXISTS _prisma_migrations (id VARCHAR(36) PRIMARY KEY NOT NULL, checksum VARCHAR(64) NOT NULL,
    finished_at DATETIME(3), migration_name VARCHAR(255) NOT NULL, logs TEXT, rolled_back_at DATETIME(3),
    started_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), applied_steps_count INTEGER UNSIGNED NOT NULL DEFAULT 0)
    DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
}

/** Split a generated migration script into statements (no procedural SQL in ours). */
export function statements(sql: string): string[] {
  return sql
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter(Boolean)
}

/** Names of applied migrations (empty when the table does not exist). */
export async function appliedMigrations(client: PrismaClientLike): Promise<string[]> {
  try {
    const rows = await client.$queryRawUnsafe<Array<{ migration_name: string }>>(
      'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
    )
    return rows.map((r) => r.migration_name)
  } catch {
    return []
  }
}

/** Apply pending migrations; returns the names applied. */
export async function migrate(client: PrismaClientLike, provider: PrismaProvider): Promise<string[]> {
  await client.$executeRawUnsafe(TABLE_DDL[provider])
  const done = new Set(await appliedMigrations(client))
  const applied: string[] = []
  const p = (n: number) => (provider === 'postgresql' ? `$${n}` : '?')
  for (const name of migrationNames(provider)) {
    if (done.has(name)) continue
    const sql = readFileSync(`${migrationsDir(provider)}/${name}/migration.sql`, 'utf8')
    const checksum = createHash('sha256').update(sql).digest('hex')
    const id = randomUUID()
    await client.$executeRawUnsafe(
      `INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at) VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)})`,
      id,
      checksum,
      name,
      new Date(),
    )
    for (const statement of statements(sql)) await client.$executeRawUnsafe(statement)
    await client.$executeRawUnsafe(
      `UPDATE _prisma_migrations SET finished_at = ${p(1)}, applied_steps_count = 1 WHERE id = ${p(2)}`,
      new Date(),
      id,
    )
    applied.push(name)
  }
  return applied
}
