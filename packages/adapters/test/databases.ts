/**
 * Test databases. PostgreSQL and MySQL suites get a fresh database each run, created from the server
 * URLs in POSTGRES_URL / MYSQL_URL. Outside CI an unreachable server skips its suite with one line; with
 * CI=true it fails, so CI can never pass without running every database suite.
 */
import { randomBytes } from 'node:crypto'
import mariadb from 'mariadb'
import pg from 'pg'

export const POSTGRES_URL = process.env.POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'
export const MYSQL_URL = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/'

const withDb = (url: string, db: string) => {
  const u = new URL(url)
  u.pathname = `/${db}`
  return u.toString()
}

/** A database that exists for one test file. */
export interface TestDatabase {
  url: string
  drop(): Promise<void>
}

async function reachable(kind: 'postgresql' | 'mysql', probe: () => Promise<void>): Promise<boolean> {
  try {
    await probe()
    return true
  } catch (err) {
    const envVar = kind === 'postgresql' ? 'POSTGRES_URL' : 'MYSQL_URL'
    const message = `${kind} is unreachable at ${kind === 'postgresql' ? POSTGRES_URL : MYSQL_URL}: ${(err as Error).message}`
    if (process.env.CI === 'true') throw new Error(`CI: ${message} (the ${kind} suites must run in CI)`)
    console.warn(`skipping the ${kind} suites: ${message}. Start the server or set ${envVar} to run them.`)
    return false
  }
}

/** Whether PostgreSQL can be used (throws under CI when it cannot). */
export const postgresAvailable = () =>
  reachable('postgresql', async () => {
    const c = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 })
    await c.connect()
    await c.end()
  })

/** Whether MySQL/MariaDB can be used (throws under CI when it cannot). */
export const mysqlAvailable = () =>
  reachable('mysql', async () => {
    const c = await mariadb.createConnection({ ...mysqlConfig(MYSQL_URL), connectTimeout: 3000 })
    await c.end()
  })

function mysqlConfig(url: string) {
  const u = new URL(url)
  return {
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username) || 'root',
    password: decodeURIComponent(u.password),
  }
}

const freshName = () => `atproto_test_${randomBytes(5).toString('hex')}`

/**
 * Create a fresh PostgreSQL database. It gets a linguistic collation (ICU en-US), as most deployments
 * have (en_US.UTF-8), rather than this machine's C locale: ordering and uniqueness of atproto keys must
 * not depend on the database's collation.
 */
export async function createPostgresDatabase(): Promise<TestDatabase> {
  const name = freshName()
  const admin = new pg.Client({ connectionString: POSTGRES_URL })
  await admin.connect()
  await admin.query(
    `CREATE DATABASE "${name}" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'`,
  )
  await admin.end()
  return {
    url: withDb(POSTGRES_URL, name),
    async drop() {
      const c = new pg.Client({ connectionString: POSTGRES_URL })
      await c.connect()
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      await c.end()
    },
  }
}

/** Create a fresh MySQL/MariaDB database. */
export async function createMysqlDatabase(): Promise<TestDatabase> {
  const name = freshName()
  const admin = await mariadb.createConnection(mysqlConfig(MYSQL_URL))
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`)
  await admin.end()
  return {
    url: withDb(MYSQL_URL, name),
    async drop() {
      const c = await mariadb.createConnection(mysqlConfig(MYSQL_URL))
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``)
      await c.end()
    },
  }
}
