/** com.atproto.repo.*: record writes and reads, describeRepo, blobs. */

import { decodeCbor, encodeCbor } from '../../data/cbor.js'
import { type CID, cidForBytes } from '../../data/cid.js'
import { ids } from '../../lexicons/nsid.js'
import type { CommitData } from '../../repo/repo.js'
import type { XrpcServer } from '../../xrpc/server.js'
import { InvalidRequestError } from '../../xrpc/xrpc-error.js'
import type { PdsAuth, PdsVerifiers } from '../auth.js'
import { commitWrites } from '../commit-writes.js'
import type { PdsContext } from '../context.js'
import { paramsOf } from '../lexicon-params.js'
import { byAccount, rateLimiter } from '../rate-limit.js'
import {
  authorizeWrite,
  ensureCollection,
  ensureRkey,
  optionalCid,
  prepareCreate,
  prepareRecord,
  resolveRepo,
} from '../records.js'
import type { PreparedWrite } from '../repo-writer.js'
import { takendownRecords } from '../takedown.js'
import { bodyOf, json } from './util.js'

const commitMeta = (data: { cid: CID; rev: string }) => ({ cid: data.cid.toString(), rev: data.rev })

/** Register com.atproto.repo.* on the XRPC server. */
export function registerRepoMethods(xrpc: XrpcServer, ctx: PdsContext, auth: PdsVerifiers): void {
  const uriOf = (did: string, collection: string, rkey: string) => `at://${did}/${collection}/${rkey}`
  const writeLimit = rateLimiter(ctx, 'writes', byAccount)

  // Blob checks and bookkeeping around the commit are shared with the host API (commit-writes.ts).
  const commit = (did: string, writes: PreparedWrite[], swapCommit: CID | undefined, a: PdsAuth) =>
    commitWrites(ctx, did, writes, swapCommit, a.account)
  const cidOf = (data: { ops: Array<{ path: string; cid: CID | null }> }, path: string) =>
    data.ops.find((o) => o.path === path)?.cid?.toString()
  /** Output of a record write. A write that changed nothing has no op: its CID is the record's own. */
  const recordResult = (did: string, write: PreparedWrite & { record?: unknown }, data: CommitData) => ({
    uri: uriOf(did, write.collection, write.rkey),
    cid: cidOf(data, `${write.collection}/${write.rkey}`) ?? cidForBytes(encodeCbor(write.record)).toString(),
    commit: commitMeta(data),
    validationStatus: write.action === 'delete' ? undefined : write.validationStatus,
  })

  xrpc.procedure(ids.ComAtprotoRepoCreateRecord, {
    input: { encoding: 'application/json' },
    auth: auth.access,
    rateLimit: writeLimit,
    async handler({ auth: a, input }) {
      const body = bodyOf(input)
      const did = await resolveRepo(ctx, body.repo, a.account)
      const write = prepareCreate(ctx, body as never)
      await authorizeWrite(ctx, a, did, [write])
      const data = await commit(did, [write], optionalCid(body.swapCommit, 'swapCommit'), a)
      return json(recordResult(did, write, data))
    },
  })

  xrpc.procedure(ids.ComAtprotoRepoPutRecord, {
    input: { encoding: 'application/json' },
    auth: auth.access,
    rateLimit: writeLimit,
    async handler({ auth: a, input }) {
      const body = bodyOf(input)
      const did = await resolveRepo(ctx, body.repo, a.account)
      const collection = ensureCollection(body.collection)
      const rkey = ensureRkey(body.rkey)
      const { record, blobs, validationStatus } = prepareRecord(
        ctx,
        collection,
        rkey,
        body.record,
        body.validate as boolean | undefined,
      )
      const swapCid = body.swapRecord === null ? null : optionalCid(body.swapRecord, 'swapRecord')
      const write: PreparedWrite = {
        action: 'update',
        collection,
        rkey,
        record,
        blobs,
        swapCid,
        validationStatus,
      }
      await authorizeWrite(ctx, a, did, [write])
      const data = await commit(did, [write], optionalCid(body.swapCommit, 'swapCommit'), a)
      return json(recordResult(did, write, data))
    },
  })

  xrpc.procedure(ids.ComAtprotoRepoDeleteRecord, {
    input: { encoding: 'application/json' },
    auth: auth.access,
    rateLimit: writeLimit,
    async handler({ auth: a, input }) {
      const body = bodyOf(input)
      const did = await resolveRepo(ctx, body.repo, a.account)
      const collection = ensureCollection(body.collection)
      const rkey = ensureRkey(body.rkey)
      const write: PreparedWrite = {
        action: 'delete',
        collection,
        rkey,
        swapCid: optionalCid(body.swapRecord, 'swapRecord'),
      }
      await authorizeWrite(ctx, a, did, [write])
      const exists = await ctx.storage.repo.read(did, (r) => r.getRecord(collection, rkey))
      if (!exists && write.swapCid === undefined) return json({}) // deleting nothing is a no-op, as the reference
      const data = await commit(did, [write], optionalCid(body.swapCommit, 'swapCommit'), a)
      return json({ commit: commitMeta(data) })
    },
  })

  xrpc.procedure(ids.ComAtprotoRepoApplyWrites, {
    input: { encoding: 'application/json' },
    auth: auth.access,
    rateLimit: writeLimit,
    async handler({ auth: a, input }) {
      const body = bodyOf(input)
      const did = await resolveRepo(ctx, body.repo, a.account)
      if (!Array.isArray(body.writes)) throw new InvalidRequestError('Input/writes must be an array')
      if (body.writes.length > 200) throw new InvalidRequestError('Too many writes. Max: 200')
      const writes: PreparedWrite[] = body.writes.map((w: Record<string, unknown>, i: number) => {
        if (w === null || typeof w !== 'object')
          throw new InvalidRequestError(`Input/writes/${i} must be an object`)
        const type = w.$type
        if (type === 'com.atproto.repo.applyWrites#create') {
          return prepareCreate(ctx, {
            collection: w.collection,
            rkey: w.rkey,
            record: w.value,
            validate: body.validate,
          })
        }
        const collection = ensureCollection(w.collection)
        const rkey = ensureRkey(w.rkey)
        if (type === 'com.atproto.repo.applyWrites#update') {
          const { record, blobs, validationStatus } = prepareRecord(
            ctx,
            collection,
            rkey,
            w.value,
            body.validate as boolean | undefined,
          )
          return { action: 'update', collection, rkey, record, blobs, validationStatus }
        }
        if (type === 'com.atproto.repo.applyWrites#delete') return { action: 'delete', collection, rkey }
        throw new InvalidRequestError(`Input/writes/${i} has an unknown $type`)
      })
      await authorizeWrite(ctx, a, did, writes)
      const data = await commit(did, writes, optionalCid(body.swapCommit, 'swapCommit'), a)
      return json({
        commit: commitMeta(data),
        results: writes.map((w) => {
          const uri = uriOf(did, w.collection, w.rkey)
          if (w.action === 'delete') return { $type: 'com.atproto.repo.applyWrites#deleteResult' }
          const type = w.action === 'create' ? 'createResult' : 'updateResult'
          return {
            $type: `com.atproto.repo.applyWrites#${type}`,
            uri,
            cid: recordResult(did, w, data).cid,
            validationStatus: w.validationStatus,
          }
        }),
      })
    },
  })

  const readRecord = async (did: string, collection: string, rkey: string) => {
    // One atomic read where the adapter has it (getRecord's hot path), else a read scope.
    if (ctx.storage.repo.getRecordBlock) {
      const hit = await ctx.storage.repo.getRecordBlock(did, collection, rkey)
      return hit ? { cid: hit.cid, value: decodeCbor(hit.bytes) } : null
    }
    return ctx.storage.repo.read(did, async (r) => {
      const row = await r.getRecord(collection, rkey)
      if (!row) return null
      const { blocks } = await r.getBlocks([row.cid])
      const bytes = blocks.get(row.cid)
      return bytes ? { cid: row.cid, value: decodeCbor(bytes) } : null
    })
  }

  xrpc.query(ids.ComAtprotoRepoGetRecord, {
    params: paramsOf(ids.ComAtprotoRepoGetRecord),
    async handler({ params }) {
      const did = await resolveRepo(ctx, params.repo)
      const collection = ensureCollection(params.collection)
      const rkey = ensureRkey(params.rkey)
      const rec = await readRecord(did, collection, rkey)
      const hidden = (await takendownRecords(ctx, [uriOf(did, collection, rkey)])).size > 0
      if (!rec || hidden || (params.cid && rec.cid.toString() !== params.cid)) {
        throw new InvalidRequestError(
          `Could not locate record: at://${did}/${collection}/${rkey}`,
          'RecordNotFound',
        )
      }
      return json({ uri: uriOf(did, collection, rkey), cid: rec.cid.toString(), value: rec.value })
    },
  })

  xrpc.query(ids.ComAtprotoRepoListRecords, {
    params: paramsOf(ids.ComAtprotoRepoListRecords),
    async handler({ params }) {
      const did = await resolveRepo(ctx, params.repo)
      const collection = ensureCollection(params.collection)
      const limit = params.limit as number
      const records = await ctx.storage.repo.read(did, async (r) => {
        const rows = await r.listRecords(collection, {
          limit,
          cursor: params.cursor as string | undefined,
          reverse: params.reverse === true,
        })
        const { blocks } = await r.getBlocks(rows.map((row) => row.cid))
        return rows.map((row) => ({ row, bytes: blocks.get(row.cid) }))
      })
      const hidden = await takendownRecords(
        ctx,
        records.map((r) => uriOf(did, collection, r.row.rkey)),
      )
      const out = records
        .filter((r) => r.bytes && !hidden.has(uriOf(did, collection, r.row.rkey)))
        .map(({ row, bytes }) => ({
          uri: uriOf(did, collection, row.rkey),
          cid: row.cid.toString(),
          value: decodeCbor(bytes!),
        }))
      const last = records.at(-1)
      return json({ records: out, cursor: records.length === limit && last ? last.row.rkey : undefined })
    },
  })

  xrpc.query(ids.ComAtprotoRepoDescribeRepo, {
    params: paramsOf(ids.ComAtprotoRepoDescribeRepo),
    async handler({ params }) {
      const did = await resolveRepo(ctx, params.repo)
      const account = (await ctx.storage.accounts.getByDid(did))!
      const collections = await ctx.storage.repo.read(did, (r) => r.listCollections())
      const didDoc = await ctx.plc.getDocument(did).catch(() => undefined)
      return json({
        handle: account.handle,
        did,
        didDoc: didDoc ?? {},
        collections,
        handleIsCorrect: true,
      })
    },
  })
}
