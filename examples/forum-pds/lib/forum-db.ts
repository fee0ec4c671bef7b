// The forum's own tables, created at start-up beside the atproto ones. Each migration runs once, in
// order, recorded in forum_migration. The DDL is what `prisma migrate diff` produces for the User model
// of prisma/schema.prisma (SQLite); it lives in code so bundled route handlers need no files at runtime.
import type { PrismaClient } from '../prisma/generated/client'

const MIGRATIONS: Array<{ name: string; statements: string[] }> = [
  {
    name: '0001_user',
    statements: [
      `CREATE TABLE "forum_user" (
        "id" TEXT NOT NULL PRIMARY KEY,
        "username" TEXT NOT NULL,
        "email" TEXT,
        "passwordHash" TEXT NOT NULL,
        "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
      )`,
      'CREATE UNIQUE INDEX "forum_user_username_key" ON "forum_user"("username")',
      'CREATE UNIQUE INDEX "forum_user_email_key" ON "forum_user"("email")',
    ],
  },
]

/** Apply the forum's pending migrations; returns the names applied. */
export async function migrateForum(prisma: PrismaClient): Promise<string[]> {
  await prisma.$executeRawUnsafe(
    'CREATE TABLE IF NOT EXISTS "forum_migration" ("name" TEXT NOT NULL PRIMARY KEY, "appliedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP)',
  )
  const rows = await prisma.$queryRawUnsafe<Array<{ name: string }>>('SELECT "name" FROM "forum_migration"')
  const applied = new Set(rows.map((r) => r.name))
  const done: string[] = []
  for (const m of MIGRATIONS) {
    if (applied.has(m.name)) continue
    await prisma.$transaction(async (tx) => {
      for (const sql of m.statements) await tx.$executeRawUnsafe(sql)
      await tx.$executeRawUnsafe('INSERT INTO "forum_migration" ("name") VALUES (?)', m.name)
    })
    done.push(m.name)
  }
  return done
}
