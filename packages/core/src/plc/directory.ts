import { formatDidDoc } from './document.js'
import { PlcConflictError, PlcValidationError } from './errors.js'
import { cidForOp } from './operations.js'
import type { PlcStore } from './store.js'
import type { PlcLogEntry } from './types.js'
import { assertValidIncomingOp, assureValidNextOp, opToData } from './validate.js'

/** Options of {@link createPlcDirectory}. */
export interface PlcDirectoryOptions {
  store: PlcStore
  /** Clock (injectable for recovery-window tests). */
  now?: () => Date
  /**
   * Per-DID operation rate limits (reference: 10/hour, 30/day, 100/week; recovery ops exempt).
   * Default on; pass `false` for test networks that churn one DID.
   */
  rateLimit?: boolean
  /** Largest accepted POST body in bytes (default 16 KiB; ops themselves are capped at 4000 CBOR bytes). */
  maxBodyBytes?: number
}

/** A PLC directory served over Web Request/Response (mount it at a host root). */
export interface PlcDirectory {
  fetch(request: Request): Promise<Response>
}

const HOUR = 3_600_000
const json = (body: unknown, status = 200, type = 'application/json') =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': type } })
const fail = (status: number, message: string, extra?: Record<string, unknown>) =>
  json({ message, ...extra }, status)

const auditJson = (e: PlcLogEntry) => ({
  did: e.did,
  operation: e.operation,
  cid: e.cid,
  nullified: e.nullified,
  createdAt: e.createdAt.toISOString(),
})

function enforceRateLimit(log: PlcLogEntry[], now: Date): void {
  const limits: [number, number, string][] = [
    [HOUR, 10, 'hour'],
    [24 * HOUR, 30, 'day'],
    [7 * 24 * HOUR, 100, 'week'],
  ]
  for (const [window, max, label] of limits) {
    const since = now.getTime() - window
    if (log.filter((e) => e.createdAt.getTime() > since).length >= max) {
      throw new PlcValidationError('RateLimited', `Too many operations within last ${label} (max ${max})`)
    }
  }
}

async function readBody(request: Request, max: number): Promise<unknown> {
  const declared = Number(request.headers.get('content-length'))
  if (declared > max) throw new PlcValidationError('OperationTooLarge', 'Request body too large')
  const buf = new Uint8Array(await request.arrayBuffer())
  if (buf.byteLength > max) throw new PlcValidationError('OperationTooLarge', 'Request body too large')
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf))
  } catch {
    throw new PlcValidationError('MalformedOperation', 'Body is not valid JSON')
  }
}

/**
 * Create a PLC directory service speaking the plc.directory HTTP API:
 * `GET /{did}` (DID document), `/{did}/data`, `/{did}/log`, `/{did}/log/audit`, `/{did}/log/last`,
 * `POST /{did}` (submit a validated operation), `GET /export?after=&count=` (JSON lines), `/_health`.
 * Unknown DIDs answer 404, tombstoned DIDs 410 on the document routes, invalid ops 400;
 * error bodies are `{ message }` like the reference.
 */
export function createPlcDirectory(opts: PlcDirectoryOptions): PlcDirectory {
  const { store } = opts
  const now = opts.now ?? (() => new Date())
  const rateLimit = opts.rateLimit ?? true
  const maxBody = opts.maxBodyBytes ?? 16 * 1024

  const activeLog = async (did: string) => (await store.getLog(did)).filter((e) => !e.nullified)

  async function current(did: string): Promise<Response | { entry: PlcLogEntry }> {
    const entry = (await activeLog(did)).at(-1)
    if (!entry) return fail(404, `DID not registered: ${did}`)
    return { entry }
  }

  async function submit(did: string, request: Request): Promise<Response> {
    const op = assertValidIncomingOp(await readBody(request, maxBody))
    const cid = cidForOp(op)
    for (let attempt = 0; attempt < 5; attempt++) {
      const log = await store.getLog(did)
      const existing = log.find((e) => e.cid === cid)
      if (existing && !existing.nullified) return new Response(null, { status: 200 }) // idempotent retry
      const active = log.filter((e) => !e.nullified)
      const at = now()
      const { nullified } = await assureValidNextOp(did, active, op, at)
      // Recovery operations are exempt so an attacker cannot block recovery by spamming updates.
      if (rateLimit && nullified.length === 0) enforceRateLimit(active, at)
      try {
        await store.appendOp(
          did,
          { operation: op, cid, createdAt: at },
          { nullify: nullified, expectedLastCid: log.at(-1)?.cid ?? null },
        )
        return new Response(null, { status: 200 })
      } catch (err) {
        if (!(err instanceof PlcConflictError)) throw err
      }
    }
    return fail(409, `Too much contention on ${did}; retry`)
  }

  async function exportOps(url: URL): Promise<Response> {
    const countParam = url.searchParams.get('count')
    const parsed = countParam === null ? 1000 : Number(countParam)
    if (!Number.isInteger(parsed) || parsed < 1) return fail(400, 'Invalid count parameter')
    const count = Math.min(parsed, 1000)
    const afterParam = url.searchParams.get('after')
    let lines: string[]
    if (afterParam !== null && /^\d+$/.test(afterParam)) {
      const after = Number(afterParam)
      if (!Number.isSafeInteger(after)) return fail(400, 'Invalid after parameter')
      const ops = await store.export({ after, count })
      lines = ops.map((e) =>
        JSON.stringify({
          did: e.did,
          operation: e.operation,
          cid: e.cid,
          createdAt: e.createdAt.toISOString(),
          seq: e.seq,
          type: 'sequenced_op',
        }),
      )
    } else {
      const after = afterParam ? new Date(afterParam) : undefined
      if (after && Number.isNaN(after.getTime())) return fail(400, 'Invalid after parameter')
      const ops = await store.export({ after, count })
      lines = ops.map((e) => JSON.stringify(auditJson(e)))
    }
    return new Response(lines.join('\n'), {
      status: 200,
      headers: { 'content-type': 'application/jsonlines' },
    })
  }

  async function route(request: Request): Promise<Response> {
    const url = new URL(request.url)
    const parts = url.pathname.split('/').slice(1)
    const method = request.method
    if (parts.length === 1 && parts[0] === '_health') return json({ version: 'next-atproto' })
    if (parts.length === 1 && parts[0] === 'export') {
      return method === 'GET' ? exportOps(url) : fail(405, 'Method not allowed')
    }
    let did: string
    try {
      did = decodeURIComponent(parts[0] ?? '')
    } catch {
      return fail(400, 'Invalid DID in path')
    }
    if (!did.startsWith('did:')) return fail(404, 'Not found')
    const sub = parts.slice(1).join('/')
    if (method === 'POST' && sub === '') return submit(did, request)
    if (method !== 'GET' && method !== 'HEAD') return fail(405, 'Method not allowed')
    switch (sub) {
      case '':
      case 'data': {
        const cur = await current(did)
        if (cur instanceof Response) return cur
        const data = opToData(did, cur.entry.operation)
        if (!data) return fail(410, `DID not available: ${did}`)
        return sub === '' ? json(formatDidDoc(data), 200, 'application/did+ld+json') : json(data)
      }
      case 'log': {
        const log = await activeLog(did)
        return log.length ? json(log.map((e) => e.operation)) : fail(404, `DID not registered: ${did}`)
      }
      case 'log/audit': {
        const log = await store.getLog(did)
        return log.length ? json(log.map(auditJson)) : fail(404, `DID not registered: ${did}`)
      }
      case 'log/last': {
        const cur = await current(did)
        return cur instanceof Response ? cur : json(cur.entry.operation)
      }
      default:
        return fail(404, 'Not found')
    }
  }

  return {
    async fetch(request) {
      try {
        return await route(request)
      } catch (err) {
        if (err instanceof PlcValidationError) return fail(400, err.message, { code: err.code })
        return fail(500, 'Internal server error')
      }
    },
  }
}
