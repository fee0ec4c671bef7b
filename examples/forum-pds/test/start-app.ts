import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The forum-pds example's directory. */
export const appDir = fileURLToPath(new URL('..', import.meta.url))

const built = new Set<string>()

/**
 * `next build` an example once per test run (production mode, as users deploy it). Test files run in
 * parallel worker processes of one vitest run (same parent): a lock file makes the first build and the
 * others wait, and a marker naming the run keeps them from rebuilding `.next` under a running server.
 */
export function buildExample(dir: string): void {
  if (built.has(dir)) return
  const marker = join(dir, '.next', `.built-for-run-${process.ppid}`)
  withFileLock(join(dir, '.next-build.lock'), () => {
    if (existsSync(marker)) return
    execFileSync('npx', ['next', 'build'], {
      cwd: dir,
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
      stdio: 'pipe',
    })
    writeFileSync(marker, '')
  })
  built.add(dir)
}

/** `next build` the forum example once per test run. */
export function buildApp(): void {
  buildExample(appDir)
}

/** Run `fn` holding an exclusive lock file (a lock older than 15 min is a crashed run's: taken over). */
function withFileLock(lock: string, fn: () => void): void {
  const pause = new Int32Array(new SharedArrayBuffer(4))
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'))
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      try {
        if (Date.now() - statSync(lock).mtimeMs > 15 * 60_000) unlinkSync(lock)
      } catch {}
      Atomics.wait(pause, 0, 0, 250)
    }
  }
  try {
    fn()
  } finally {
    unlinkSync(lock)
  }
}

/** A running example server on a free loopback port. */
export interface RunningApp {
  url: string
  /** The app's data folder (its SQLite database is `forum.db`), when it has one. */
  dataDir?: string
  stop(): Promise<void>
}

/** A free loopback port (the app must know its public URL before it listens). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** A server child process started by {@link spawnServer}. */
export interface ServerProcess {
  url: string
  /** Everything it printed so far. */
  output(): string
  /** SIGTERM, then wait for it to exit (no-op once it exited). */
  stop(): Promise<void>
}

/**
 * Start `node --import tsx <script>` (the child is the server itself, so stop() really stops it) and
 * wait until it prints `ready on <url> `.
 */
export async function spawnServer(opts: {
  name: string
  script: string
  cwd?: string
  env: Record<string, string>
  timeoutMs?: number
}): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', opts.script], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${opts.name} did not start:\n${output}`)),
      opts.timeoutMs ?? 60_000,
    )
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const match = /ready on (http:\/\/\S+?) /.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${opts.name} exited with ${code}:\n${output}`))
    })
  })
  return {
    url,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await once(child, 'exit')
    },
  }
}

/** Start an example through its custom server (`npm start`), on a free port, with a fresh data folder. */
export async function startExample(
  dir: string,
  name: string,
  env: Record<string, string> = {},
  timeoutMs?: number,
): Promise<RunningApp & { dataDir: string; output(): string }> {
  const port = String(await freePort())
  const dataDir = mkdtempSync(join(tmpdir(), `${name}-`))
  const server = await spawnServer({
    name,
    script: 'server.ts',
    cwd: dir,
    env: { NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1', PORT: port, DATA_DIR: dataDir, ...env },
    timeoutMs,
  })
  return {
    url: server.url,
    dataDir,
    output: server.output,
    async stop() {
      await server.stop()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** Start the forum example through its custom server (`npm start`), on a free port. */
export function startApp(env: Record<string, string> = {}): Promise<RunningApp> {
  return startExample(appDir, 'forum-pds', env)
}
