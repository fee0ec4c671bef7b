// The README's "Add it to your existing app" section, proven as written: the code blocks are read out of
// README.md (so it cannot drift). The Express files run in a fresh folder (the app-object file, the
// server file and the README's migrate command; only `lib/prisma.ts`, "your PrismaClient", is ours)
// and are driven over HTTP and WebSocket. The Next.js files must be byte for byte the forum example's,
// which mounts.test.ts builds and drives.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { connect } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { memoryAdapter } from '@next-atproto/adapters'
import { AccountSigningKey, createAtproto, decodeFrame, plcService } from '@next-atproto/core'
import { toNodeHandler } from '@next-atproto/core/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { appDir, freePort } from './start-app.js'

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))
const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8')

/** Code blocks of the section, keyed by `<subsection number>:<file named on the block's first line>`. */
function snippets(): { files: Map<string, string>; shell: string[] } {
  const start = readme.indexOf('## Add it to your existing app')
  const end = readme.indexOf('\n## ', start + 1)
  expect(start).toBeGreaterThan(-1)
  const section = readme.slice(start, end === -1 ? undefined : end)
  const files = new Map<string, string>()
  const shell: string[] = []
  let sub = ''
  for (const part of section.split(/^(?=### )/m)) {
    sub = /^### (\w+)\./.exec(part)?.[1] ?? sub
    for (const [, lang, code] of part.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)) {
      if (lang === 'sh') shell.push(code!)
      const file = /^\/\/ (\S+)\n/.exec(code!)?.[1]
      if (file) files.set(`${sub}:${file}`, code!)
    }
  }
  return { files, shell }
}

const { files, shell } = snippets()

describe('README: Next.js files are the forum example', () => {
  it.each([
    ['3a:app/xrpc/[...nsid]/route.ts', 'app/xrpc/[...nsid]/route.ts'],
    ['3a:server.ts', 'server.ts'],
    ['3a:next.config.ts', 'next.config.ts'],
    ['3a:proxy.ts', 'proxy.ts'],
  ])('%s', (key, file) => {
    expect(files.has(key), `README block ${key}`).toBe(true)
    expect(files.get(key)).toBe(readFileSync(join(appDir, file), 'utf8'))
  })
})

describe('README: the Express files run as written', () => {
  let dir: string
  let child: ChildProcess | undefined
  let plc: Server
  let base: string
  let output = ''

  beforeAll(async () => {
    // A PLC directory for the new accounts (the README's default is plc.directory; no internet here).
    const plcApp = createAtproto({ services: [plcService({ store: memoryAdapter().plc! })] })
    plc = createServer(toNodeHandler(plcApp))
    await new Promise<void>((r) => plc.listen(0, '127.0.0.1', r))
    const plcUrl = `http://127.0.0.1:${(plc.address() as { port: number }).port}/plc`

    // The app folder sits under test/ so node_modules resolve and Next's build never sees it.
    dir = mkdtempSync(join(appDir, 'test', '.readme-app-'))
    mkdirSync(join(dir, 'lib'))
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n')
    writeFileSync(join(dir, 'lib', 'atproto.ts'), files.get('2:lib/atproto.ts')!)
    writeFileSync(join(dir, 'server.ts'), files.get('3b:server.ts')!)
    // "Your PrismaClient": the forum's generated client (it has the atproto models).
    writeFileSync(
      join(dir, 'lib', 'prisma.ts'),
      `import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaClient } from '${join(appDir, 'prisma', 'generated', 'client')}'
export const prisma = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: process.env.DATABASE_URL! }) })
`,
    )
    const port = await freePort()
    const env = {
      ...process.env,
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATABASE_URL: `file:${join(dir, 'app.db')}`,
      BLOB_DIR: join(dir, 'blobs'),
      JWT_SECRET: 'ab'.repeat(32),
      PLC_URL: plcUrl,
      PLC_ROTATION_KEY: Buffer.from(AccountSigningKey.generate().privateKey).toString('hex'),
    }
    // Step 1's migrate command, as the README gives it.
    const migrate = shell
      .flatMap((s) => s.split('\n'))
      .find((l) => l.startsWith('npx next-atproto-prisma migrate'))
    expect(migrate, 'README step 1 migrates').toBeDefined()
    const args = migrate!.replace(/#.*/, '').trim().split(/\s+/).slice(2)
    const bin = join(repoRoot, 'packages', 'adapters', 'bin', 'next-atproto-prisma.mjs')
    expect(execFileSync(process.execPath, [bin, ...args], { cwd: dir, env }).toString()).toMatch(/applied/)

    child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], { cwd: dir, env, stdio: 'pipe' })
    child.stdout!.on('data', (c) => (output += c))
    child.stderr!.on('data', (c) => (output += c))
    base = `http://127.0.0.1:${port}`
    const deadline = Date.now() + 60_000
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the README's server.ts exited:\n${output}`)
      const up = await fetch(`${base}/xrpc/_health`).catch(() => null)
      if (up?.ok) break
      if (Date.now() > deadline) throw new Error(`the README's server.ts did not start:\n${output}`)
      await new Promise((r) => setTimeout(r, 200))
    }
  }, 120_000)

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
    await new Promise((r) => plc?.close(r))
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('serves health, the app route, accounts, records and the firehose', async () => {
    const health = await fetch(`${base}/xrpc/_health`)
    expect(await health.json()).toEqual({ version: expect.any(String) })
    expect(await (await fetch(`${base}/`)).text()).toBe('<h1>Forum</h1>')

    const firehose = new WebSocket(`${base.replace('http', 'ws')}/xrpc/com.atproto.sync.subscribeRepos`)
    const frames: Array<ReturnType<typeof decodeFrame>> = []
    firehose.on('message', (data: Buffer) => frames.push(decodeFrame(new Uint8Array(data))))
    await once(firehose, 'open')

    const created = await fetch(`${base}/xrpc/com.atproto.server.createAccount`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ handle: 'alice.example.org', password: 'password-1', email: 'alice@mail.test' }),
    })
    const account = await created.json()
    expect(created.status, JSON.stringify(account)).toBe(200)
    expect(account).toMatchObject({ handle: 'alice.example.org', did: expect.stringMatching(/^did:plc:/) })

    const write = await fetch(`${base}/xrpc/com.atproto.repo.createRecord`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${account.accessJwt}` },
      body: JSON.stringify({
        repo: account.did,
        collection: 'dev.nextatproto.forum.thread',
        record: {
          $type: 'dev.nextatproto.forum.thread',
          title: 'Hello',
          body: 'First',
          createdAt: new Date().toISOString(),
        },
      }),
    })
    const record = await write.json()
    expect(write.status, JSON.stringify(record)).toBe(200)
    const read = await fetch(
      `${base}/xrpc/com.atproto.repo.getRecord?repo=alice.example.org&collection=dev.nextatproto.forum.thread&rkey=${record.uri.split('/').pop()}`,
    )
    expect(await read.json()).toMatchObject({ uri: record.uri, cid: record.cid, value: { title: 'Hello' } })

    const deadline = Date.now() + 20_000
    const commitOf = () =>
      frames.find(
        (f) =>
          f.op === 1 &&
          f.t === '#commit' &&
          (f.body.ops as Array<{ path: string }>)?.some(
            (o) => o.path === record.uri.split('/').slice(3).join('/'),
          ),
      )
    while (!commitOf() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    firehose.close()
    expect(commitOf(), `frames: ${JSON.stringify(frames.map((f) => f.op === 1 && f.t))}`).toBeDefined()
    expect(commitOf()!.body).toMatchObject({ repo: account.did, rev: expect.any(String) })
  })

  it('answers malformed HTTP with an XRPC error (injectWebSocket installs it)', async () => {
    const port = Number(new URL(base).port)
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1')
      let text = ''
      socket.on('data', (c) => (text += c))
      socket.on('close', () => resolve(text))
      socket.on('error', reject)
      socket.write(
        'POST /xrpc/com.atproto.server.createSession HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n',
      )
    })
    expect(answer).toMatch(/^HTTP\/1\.1 400 /)
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({
      error: 'InvalidRequest',
    })
  })
})
