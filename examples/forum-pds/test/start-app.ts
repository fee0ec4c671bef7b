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

let built = false

/**
 * `next build` the example once per test run (production mode, as users deploy it). Test files run in
 * parallel worker processes of one vitest run (same parent): a lock file makes the first build and the
 * others wait, and a marker naming the run keeps them from rebuilding `.next` under a running server.
 */
export function buildApp(): void {
  if (built) return
  const marker = join(appDir, '.next', `.built-for-run-${process.ppid}`)
  withFileLock(join(appDir, '.next-build.lock'), () => {
    if (existsSync(marker)) return
    execFileSync('npx', ['next', 'build'], {
      cwd: appDir,
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
      stdio: 'pipe',
    })
    writeFileSync(marker, '')
  })
  built = true
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

/** Start the example through its custom server (`npm start`), on a free port. */
export async function startApp(env: Record<string, string> = {}): Promise<RunningApp> {
  const port = String(await freePort())
  const dataDir = mkdtempSync(join(tmpdir(), 'forum-next-'))
  // node --import tsx directly (not npx): the child is the server itself, so stop() really stops it.
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
    cwd: appDir,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      NEXT_TELEMETRY_DISABLED: '1',
      PORT: port,
      DATA_DIR: dataDir,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`forum-pds did not start:\n${output}`)), 60_000)
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
      reject(new Error(`forum-pds exited with ${code}:\n${output}`))
    })
  })
  return {
    url,
    dataDir,
    async stop() {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await once(child, 'exit')
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
