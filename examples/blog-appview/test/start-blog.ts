// The blog example started like the forum's: the shared build and server starters of forum-pds's tests.
import { fileURLToPath } from 'node:url'
import { buildExample, startExample } from '../../forum-pds/test/start-app.js'

/** The blog-appview example's directory. */
export const appDir = fileURLToPath(new URL('..', import.meta.url))

/** `next build` the example (production mode, as users deploy it), once per test run. */
export function buildBlog(): void {
  buildExample(appDir)
}

/** A running blog server. `dataDir` holds its SQLite database. */
export interface RunningBlog {
  url: string
  dataDir: string
  output(): string
  stop(): Promise<void>
}

/** Start the built blog (`npm start`: its custom server) on a free loopback port. */
export function startBlog(env: Record<string, string>): Promise<RunningBlog> {
  return startExample(appDir, 'blog-appview', env, 90_000)
}
