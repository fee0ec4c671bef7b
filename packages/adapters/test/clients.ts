/** Prisma clients generated from the test schemas (test/prisma/<provider>, fragment synced in). */
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaMariaDb } from '@prisma/adapter-mariadb'
import { PrismaPg } from '@prisma/adapter-pg'
import { PrismaClient as MysqlClient } from './prisma/mysql/generated/client.js'
import { PrismaClient as PostgresClient } from './prisma/postgresql/generated/client.js'
import { PrismaClient as SqliteClient } from './prisma/sqlite/generated/client.js'

export const sqliteClient = (url: string, options?: { timestampFormat?: 'iso8601' | 'unixepoch-ms' }) =>
  new SqliteClient({ adapter: new PrismaBetterSqlite3({ url }, options) })
export const postgresClient = (url: string) =>
  new PostgresClient({ adapter: new PrismaPg({ connectionString: url }) })
export const mysqlClient = (url: string) => new MysqlClient({ adapter: new PrismaMariaDb(url) })
