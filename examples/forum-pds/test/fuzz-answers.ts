// The fuzz test's other half: send a generated case over real HTTP (node:http, keep-alive) or a raw
// socket, and the oracle that says what each answer must look like.
import { Agent, request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { gunzipSync, inflateSync } from 'node:zlib'
import type { FuzzAnswer, FuzzCase } from './fuzz-requests.js'

const agent = new Agent({ keepAlive: true, maxSockets: 32 })

/** Send one HTTP case; resolves with the answer (never rejects on HTTP-level errors). */
export function sendHttp(base: string, c: Extract<FuzzCase, { kind: 'http' }>): Promise<FuzzAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...c.headers }
    if (c.body) headers['content-length'] = c.body.length
    const req = httpRequest(`${base}${c.path}`, { method: c.method, headers, agent }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (d: Buffer) => chunks.push(d))
      res.on('end', () => {
        // Next.js compresses answers for clients that accept it.
        let bytes = Buffer.concat(chunks)
        const coding = res.headers['content-encoding']
        try {
          if (coding === 'gzip' && bytes.length) bytes = gunzipSync(bytes)
          else if (coding === 'deflate' && bytes.length) bytes = inflateSync(bytes)
        } catch {}
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers['content-type'] ?? ''),
          body: bytes.toString('utf8'),
        })
      })
      res.on('error', reject)
    })
    req.setTimeout(30_000, () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end(c.body)
  })
}

/** Send raw bytes; the answer is whatever came back before the server closed the connection. */
export function sendRaw(port: number, bytes: Buffer): Promise<FuzzAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    const done = () => {
      const text = Buffer.concat(chunks).toString('latin1')
      const split = text.indexOf('\r\n\r\n')
      const head = split === -1 ? text : text.slice(0, split)
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0)
      const contentType = /\r\ncontent-type: *([^\r\n]*)/i.exec(head)?.[1] ?? ''
      let body = split === -1 ? '' : text.slice(split + 4)
      if (/\r\ntransfer-encoding: *chunked/i.test(head)) body = dechunk(body)
      resolve({ status, contentType, body: Buffer.from(body, 'latin1').toString('utf8') })
    }
    socket.setTimeout(30_000, () => socket.destroy(new Error('timeout')))
    socket.on('data', (d) => {
      chunks.push(d)
      // One answer is all we wait for: stop at the end of a Content-Length body.
      const text = Buffer.concat(chunks).toString('latin1')
      const split = text.indexOf('\r\n\r\n')
      const len = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, split))?.[1]
      if (split !== -1 && len !== undefined && text.length - split - 4 >= Number(len)) {
        socket.destroy()
        done()
      }
    })
    socket.on('error', (err) => (chunks.length ? done() : reject(err)))
    socket.on('close', done)
    socket.write(bytes)
  })
}

function dechunk(body: string): string {
  let out = ''
  let i = 0
  for (;;) {
    const eol = body.indexOf('\r\n', i)
    if (eol === -1) return out
    const size = Number.parseInt(body.slice(i, eol), 16)
    if (!size) return out
    out += body.slice(eol + 2, eol + 2 + size)
    i = eol + 4 + size
  }
}

/** Problems with an answer; empty when it is right. */
export function checkAnswer(c: FuzzCase, a: FuzzAnswer, registered: (nsid: string) => boolean): string[] {
  const problems: string[] = []
  const method = c.kind === 'http' ? c.method : undefined
  let body: { error?: unknown; message?: unknown } | undefined
  if (a.status >= 400 && method !== 'HEAD') {
    if (!/^application\/json/.test(a.contentType)) problems.push(`error with content-type "${a.contentType}"`)
    try {
      body = JSON.parse(a.body)
    } catch {
      problems.push(`error body is not JSON: ${a.body.slice(0, 120)}`)
    }
    if (body && (typeof body.error !== 'string' || typeof body.message !== 'string'))
      problems.push(`error body is not {error,message}: ${a.body.slice(0, 160)}`)
  }
  const unknownNsid = c.nsid !== undefined && !registered(c.nsid)
  if (a.status >= 500 && !(a.status === 501 && unknownNsid)) problems.push(`status ${a.status}`)
  if (a.status === 0) problems.push('no HTTP answer')
  if (c.expect.kind === 'status') {
    const e = c.expect
    if (a.status !== e.status) problems.push(`expected ${e.status} (${e.why}), got ${a.status}`)
    else if (method !== 'HEAD' && body) {
      if (e.error && body.error !== e.error)
        problems.push(`expected error ${e.error} (${e.why}), got ${String(body.error)}`)
      if (e.field && !String(body.message).includes(e.field))
        problems.push(`message does not name "${e.field}" (${e.why}): ${String(body.message)}`)
    }
  }
  return problems
}
