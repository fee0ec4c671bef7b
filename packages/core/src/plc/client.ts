import { PlcClientError } from './errors.js'
import type { AnyPlcOperation, PlcDidDocument, PlcDocumentData, PlcOpOrTombstone } from './types.js'

/** An audit-log entry as a directory serves it (dates as ISO strings). */
export interface PlcExportedOp {
  did: string
  operation: AnyPlcOperation
  cid: string
  nullified?: boolean
  createdAt: string
  seq?: number
  type?: 'sequenced_op'
}

/** Options of {@link PlcClient}. */
export interface PlcClientOptions {
  /** fetch implementation (default the global one). The directory URL is operator-configured, not user input. */
  fetch?: typeof fetch
  /** Per-request timeout in ms (default 10 s). */
  timeoutMs?: number
}

/** Talks to a PLC directory (ours, a local one, or https://plc.directory). */
export class PlcClient {
  readonly url: string
  private readonly doFetch: typeof fetch
  private readonly timeoutMs: number

  constructor(url = 'https://plc.directory', opts: PlcClientOptions = {}) {
    this.url = url.replace(/\/+$/, '')
    this.doFetch = opts.fetch ?? globalThis.fetch
    this.timeoutMs = opts.timeoutMs ?? 10_000
  }

  private async request(path: string, init?: RequestInit): Promise<Response> {
    let res: Response
    try {
      res = await this.doFetch(`${this.url}${path}`, { ...init, signal: AbortSignal.timeout(this.timeoutMs) })
    } catch (err) {
      throw new PlcClientError(0, `PLC directory unreachable: ${(err as Error).message}`)
    }
    if (!res.ok) {
      const text = await res.text().catch(() => '')
      let body: unknown = text
      try {
        body = JSON.parse(text)
      } catch {}
      const message = (body as { message?: string })?.message ?? (text || res.statusText)
      throw new PlcClientError(res.status, message, body)
    }
    return res
  }

  private async getJson<T>(path: string): Promise<T> {
    return (await (await this.request(path)).json()) as T
  }

  private didPath = (did: string) => `/${encodeURIComponent(did)}`

  /** The DID document. @throws {PlcClientError} 404 unknown, 410 tombstoned */
  getDocument(did: string): Promise<PlcDidDocument> {
    return this.getJson(this.didPath(did))
  }

  /** The document data (keys, aka, services) of the latest operation. */
  getDocumentData(did: string): Promise<PlcDocumentData> {
    return this.getJson(`${this.didPath(did)}/data`)
  }

  /** The active (non-nullified) operations, oldest first. */
  getOperationLog(did: string): Promise<AnyPlcOperation[]> {
    return this.getJson(`${this.didPath(did)}/log`)
  }

  /** Every operation, nullified ones included, with CIDs and timestamps. */
  getAuditableLog(did: string): Promise<PlcExportedOp[]> {
    return this.getJson(`${this.didPath(did)}/log/audit`)
  }

  /** The latest active operation (possibly a tombstone). */
  getLastOp(did: string): Promise<AnyPlcOperation> {
    return this.getJson(`${this.didPath(did)}/log/last`)
  }

  /** Submit a signed operation. @throws {PlcClientError} 400 with the directory's reason */
  async sendOperation(did: string, op: PlcOpOrTombstone): Promise<void> {
    const res = await this.request(this.didPath(did), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(op),
    })
    await res.body?.cancel()
  }

  /** One page of the directory export (`after`: a seq number or an ISO date). */
  async export(opts: { after?: number | string; count?: number } = {}): Promise<PlcExportedOp[]> {
    const q = new URLSearchParams()
    if (opts.after !== undefined) q.set('after', String(opts.after))
    if (opts.count !== undefined) q.set('count', String(opts.count))
    const text = await (await this.request(`/export?${q}`)).text()
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as PlcExportedOp)
  }
}
