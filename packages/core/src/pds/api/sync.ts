/** com.atproto.sync.*: repo export, proofs, status, and the firehose (subscribeRepos). */
import { CID } from '../../data/cid.js'
import { ids } from '../../lexicons/nsid.js'
import { BlockMap } from '../../repo/block-map.js'
import type { BlockStore } from '../../repo/block-store.js'
import { blocksToCarFile, concat, toReadableStream, writeCar } from '../../repo/car.js'
import { decodeCommit } from '../../repo/commit.js'
import { exportRepoCar, exportRepoStream } from '../../repo/export.js'
import { Mst } from '../../repo/mst.js'
import { coveringProof } from '../../repo/proof.js'
import type { XrpcServer } from '../../xrpc/server.js'
import { InvalidRequestError } from '../../xrpc/xrpc-error.js'
import type { PdsContext } from '../context.js'
import { paramsOf } from '../lexicon-params.js'
import { hostedAccount, json } from './util.js'

/** Default of `exportBufferBytes`: a typical repo is about 3 MB per 10k records. */
const EXPORT_BUFFER_BYTES = 32 * 1024 * 1024
/** A lower bound of a record's weight in an export (its block and its MST entry): for an early exit. */
const MIN_BYTES_PER_RECORD = 100

const CAR = 'application/vnd.ipld.car'

/** Register com.atproto.sync.* on the XRPC server. */
export function registerSyncMethods(xrpc: XrpcServer, ctx: PdsContext): void {
  const hosted = (did: unknown) => hostedAccount(ctx, did)
  const repoNotFound = (did: string) =>
    new InvalidRequestError(`Could not find root for DID: ${did}`, 'RepoNotFound')
  const rootOf = async (did: string) => {
    const root = await ctx.storage.repo.read(did, (r) => r.getRoot())
    if (!root) throw repoNotFound(did)
    return root
  }
  /** Reads outside a transaction: each call sees committed blocks (streams outlive one read scope). */
  const storeOf = (did: string): BlockStore => ({
    getBlocks: (cids) => ctx.storage.repo.read(did, (r) => r.getBlocks(cids)),
    putBlocks: async () => {
      throw new Error('read-only')
    },
  })

  xrpc.query(ids.ComAtprotoSyncGetLatestCommit, {
    params: paramsOf(ids.ComAtprotoSyncGetLatestCommit),
    async handler({ params }) {
      const account = await hosted(params.did)
      const root = await rootOf(account.did)
      return json({ cid: root.cid.toString(), rev: root.rev })
    },
  })

  xrpc.query(ids.ComAtprotoSyncGetRepo, {
    params: paramsOf(ids.ComAtprotoSyncGetRepo),
    async handler({ params }) {
      const account = await hosted(params.did)
      if (typeof params.since === 'string' && params.since) {
        const since = params.since
        const diff = await ctx.storage.repo.read(account.did, async (r) => ({
          head: await r.getRoot(),
          blocks: await r.blocksSince(since),
        }))
        if (!diff.head) throw repoNotFound(account.did)
        return { encoding: CAR, body: await blocksToCarFile(diff.head.cid, diff.blocks) }
      }
      // A commit deletes the nodes it replaced, so an export must read one version throughout. Most repos
      // are exported inside one read snapshot (buffered: a snapshot must not wait on a slow client);
      // a large one streams batch by batch, and a commit to it meanwhile cuts that download off.
      const cap = ctx.options.exportBufferBytes ?? EXPORT_BUFFER_BYTES
      const { root, car } = await ctx.storage.repo.read(account.did, async (r) => {
        const root = await r.getRoot()
        if (!root || cap <= 0 || (await r.countRecords()) * MIN_BYTES_PER_RECORD > cap)
          return { root, car: null }
        const chunks: Uint8Array[] = []
        let size = 0
        for await (const chunk of exportRepoCar(r, root.cid)) {
          size += chunk.byteLength
          if (size > cap) return { root, car: null } // too heavy to hold: stream it instead
          chunks.push(chunk)
        }
        return { root, car: concat(chunks) }
      })
      if (!root) throw repoNotFound(account.did)
      return { encoding: CAR, body: car ?? exportRepoStream(storeOf(account.did), root.cid) }
    },
  })

  xrpc.query(ids.ComAtprotoSyncGetBlocks, {
    params: paramsOf(ids.ComAtprotoSyncGetBlocks),
    async handler({ params }) {
      const account = await hosted(params.did)
      const cids = (params.cids as string[]).map((s) => {
        try {
          return CID.parse(s)
        } catch {
          throw new InvalidRequestError(`Invalid CID: ${s}`)
        }
      })
      const { blocks, missing } = await ctx.storage.repo.read(account.did, (r) => r.getBlocks(cids))
      if (missing.length > 0)
        throw new InvalidRequestError(`Could not find cids: ${missing.join(', ')}`, 'BlockNotFound')
      return { encoding: CAR, body: await blocksToCarFile(null, blocks) }
    },
  })

  xrpc.query(ids.ComAtprotoSyncGetRecord, {
    params: paramsOf(ids.ComAtprotoSyncGetRecord),
    async handler({ params }) {
      const account = await hosted(params.did)
      const key = `${params.collection}/${params.rkey}`
      // One snapshot for the whole proof: a commit landing meanwhile deletes the nodes it replaced.
      const { root, out } = await ctx.storage.repo.read(account.did, async (store) => {
        const root = await store.getRoot()
        if (!root) throw repoNotFound(account.did)
        const { blocks: commitBlocks } = await store.getBlocks([root.cid])
        const commitBytes = commitBlocks.get(root.cid)!
        const tree = await Mst.load(store, decodeCommit(commitBytes).data)
        // The proof: commit, the MST path to the key (present or not), and the record when present.
        const proof = await coveringProof(tree, [key])
        const out = new BlockMap()
        out.set(root.cid, commitBytes)
        out.addMap(proof)
        const recordCid = await tree.get(key)
        if (recordCid) {
          const { blocks } = await store.getBlocks([recordCid])
          const bytes = blocks.get(recordCid)
          if (bytes) out.set(recordCid, bytes)
        }
        return { root, out }
      })
      const chunks = writeCar(
        [root.cid],
        out.cids().map((cid) => ({ cid, bytes: out.get(cid)! })),
      )
      return { encoding: CAR, body: toReadableStream(chunks) }
    },
  })

  xrpc.query(ids.ComAtprotoSyncGetRepoStatus, {
    params: paramsOf(ids.ComAtprotoSyncGetRepoStatus),
    async handler({ params }) {
      const did = params.did as string
      const account = await ctx.storage.accounts.getByDid(did)
      if (!account || account.status === 'deleted')
        throw new InvalidRequestError(`Could not find repo for DID: ${did}`, 'RepoNotFound')
      const root = await ctx.storage.repo.read(did, (r) => r.getRoot())
      const active = account.status === 'active'
      return json({
        did,
        active,
        status: active ? undefined : account.status,
        rev: active ? root?.rev : undefined,
      })
    },
  })

  xrpc.query(ids.ComAtprotoSyncListRepos, {
    params: paramsOf(ids.ComAtprotoSyncListRepos),
    async handler({ params }) {
      const limit = params.limit as number
      const accounts = await ctx.storage.accounts.list({ limit, cursor: params.cursor as string | undefined })
      const repos = []
      for (const a of accounts) {
        if (a.status === 'deleted') continue
        const root = await ctx.storage.repo.read(a.did, (r) => r.getRoot())
        if (!root) continue
        const active = a.status === 'active'
        repos.push({
          did: a.did,
          head: root.cid.toString(),
          rev: root.rev,
          active,
          status: active ? undefined : a.status,
        })
      }
      return json({ repos, cursor: accounts.length === limit ? accounts.at(-1)!.did : undefined })
    },
  })

  xrpc.subscription(ids.ComAtprotoSyncSubscribeRepos, {
    params: paramsOf(ids.ComAtprotoSyncSubscribeRepos),
    handler: ({ params, signal }) => ctx.sequencer.subscribe(params.cursor as number | undefined, signal),
  })
}
