/** Blobs: com.atproto.repo.uploadBlob, com.atproto.sync.getBlob and listBlobs. */
import { CID } from '../../data/cid.js'
import { ids } from '../../lexicons/nsid.js'
import { assertScope, type ScopePermissions } from '../../oauth/scopes.js'
import type { XrpcServer } from '../../xrpc/server.js'
import { InvalidRequestError, PayloadTooLargeError } from '../../xrpc/xrpc-error.js'
import type { PdsVerifiers } from '../auth.js'
import type { PdsContext } from '../context.js'
import { paramsOf } from '../lexicon-params.js'
import { hostedAccount, json } from './util.js'

/** Register the blob endpoints. */
export function registerBlobMethods(xrpc: XrpcServer, ctx: PdsContext, auth: PdsVerifiers): void {
  const maxSize = ctx.options.maxBlobSize ?? 100 * 1024 * 1024

  xrpc.procedure(ids.ComAtprotoRepoUploadBlob, {
    input: { encoding: '*/*', maxSize },
    auth: auth.access,
    async handler({ auth: a, input }) {
      if (!input || input.encoding === 'application/json' || !(input.body instanceof ReadableStream)) {
        throw new InvalidRequestError('Upload the blob bytes as the request body')
      }
      const declared = input.encoding.split(';')[0]!.trim().toLowerCase()
      if (a.kind === 'oauth') assertScope(a.scopes as ScopePermissions, { type: 'blob', mime: declared })
      // Deactivated accounts may upload: a migration uploads its blobs before activating (as the reference).
      const account = await ctx.storage.accounts.getByDid(a.did)
      if (account?.status !== 'active' && account?.status !== 'deactivated')
        throw new InvalidRequestError('Account is not active', 'AccountDeactivated')
      let temp: Awaited<ReturnType<typeof ctx.blobstore.putTemp>>
      try {
        temp = await ctx.blobstore.putTemp(input.body, { maxSize })
      } catch (err) {
        if ((err as Error).name === 'BlobTooLargeError')
          throw new PayloadTooLargeError('Blob too large', 'BlobTooLarge')
        throw err
      }
      // A generic declared type defers to what the bytes are (as the reference sniffs uploads).
      const mimeType =
        declared === '*/*' || declared === 'application/octet-stream' ? (temp.mimeType ?? declared) : declared
      const existing = await ctx.storage.blobs.get(a.did, temp.cid)
      if (existing && existing.tempKey === null) {
        await ctx.blobstore.deleteTemp(temp.key) // already stored: keep the permanent copy
      } else if (await ctx.storage.blobs.hasRefs?.(a.did, temp.cid)) {
        // A blob an imported record already references is permanent at once (listMissingBlobs). The
        // row goes first: bytes are shared by CID, and garbage collection spares only those a row
        // holds (blob-gc.ts), so the bytes must never be relied on before the row exists.
        await ctx.storage.blobs.delete(a.did, [temp.cid]) // a stale temporary row, if any
        await ctx.storage.blobs.track({ did: a.did, cid: temp.cid, mimeType, size: temp.size, tempKey: null })
        try {
          await ctx.blobstore.makePermanent(temp.key, temp.cid)
        } catch (err) {
          await ctx.storage.blobs.delete(a.did, [temp.cid]).catch(() => {}) // no row without bytes
          throw err
        }
      } else {
        await ctx.storage.blobs.track({
          did: a.did,
          cid: temp.cid,
          mimeType,
          size: temp.size,
          tempKey: temp.key,
        })
      }
      return json({ blob: { $type: 'blob', ref: temp.cid, mimeType, size: temp.size } })
    },
  })

  xrpc.query(ids.ComAtprotoSyncGetBlob, {
    params: paramsOf(ids.ComAtprotoSyncGetBlob),
    async handler({ params, request }) {
      const did = params.did as string
      let cid: CID
      try {
        cid = CID.parse(params.cid as string)
      } catch {
        throw new InvalidRequestError('Invalid CID')
      }
      await hostedAccount(ctx, did)
      const meta = await ctx.storage.blobs.get(did, cid)
      if (!meta || meta.tempKey !== null || meta.takedown)
        throw new InvalidRequestError('Blob not found', 'BlobNotFound')
      const range = parseRange(request.headers.get('range'), meta.size)
      const found = await ctx.blobstore.get(cid, range ?? undefined)
      if (!found) throw new InvalidRequestError('Blob not found', 'BlobNotFound')
      // Never let a browser render user content as a page of this origin.
      const headers: Record<string, string> = {
        'content-security-policy': "default-src 'none'; sandbox",
        'x-content-type-options': 'nosniff',
        'content-disposition': `attachment; filename="${cid.toString()}"`,
        'accept-ranges': 'bytes',
        'cache-control': 'private, max-age=31536000, immutable',
      }
      if (range) {
        headers['content-range'] = `bytes ${range.start}-${range.end}/${meta.size}`
        headers['content-length'] = String(range.end - range.start + 1)
        return new Response(found.stream, {
          status: 206,
          headers: { ...headers, 'content-type': meta.mimeType },
        })
      }
      headers['content-length'] = String(meta.size)
      return { encoding: meta.mimeType, body: found.stream, headers }
    },
  })

  xrpc.query(ids.ComAtprotoSyncListBlobs, {
    params: paramsOf(ids.ComAtprotoSyncListBlobs),
    async handler({ params }) {
      const did = params.did as string
      const limit = params.limit as number
      const cids = await ctx.storage.blobs.list(did, { limit, cursor: params.cursor as string | undefined })
      return json({
        cids: cids.map(String),
        cursor: cids.length === limit ? cids.at(-1)!.toString() : undefined,
      })
    },
  })
}

/** A single `bytes=a-b` range within `size` (multi-range and invalid ranges are served whole). */
function parseRange(header: string | null, size: number): { start: number; end: number } | null {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null
  if (!m || (m[1] === '' && m[2] === '')) return null
  let start: number
  let end: number
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]))
    end = size - 1
  } else {
    start = Number(m[1])
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)
  }
  return start <= end && start < size ? { start, end } : null
}
