/**
 * `next-atproto/trpc`: typed, server-side access for the host app's own pages to what the framework
 * hosts (accounts, records, repo status) and indexes (AppView rows), straight from storage: no HTTP
 * round trip, no XRPC auth.
 *
 * ```ts
 * const atprotoRouter = createAtprotoRouter({ storage })
 * const members = await atprotoRouter.createCaller({}).accounts.list({ limit: 20 })
 * // or nest it in the app's own router: t.router({ atproto: atprotoRouter, ... })
 * ```
 *
 * Inputs are checked by small hand-written Standard Schema validators (tRPC takes any Standard Schema),
 * so there is no schema library to install and callers still see the input types; a failed check is a
 * tRPC `BAD_REQUEST` naming the field.
 * @module
 */
import {
  type AccountRow,
  type AccountStatusValue,
  decodeCbor,
  ipldToJson,
  isValidDid,
  isValidHandle,
  isValidNsid,
  isValidRecordKey,
  type StorageAdapter,
} from '@next-atproto/core'
import { initTRPC, TRPCError } from '@trpc/server'

/** Options of {@link createAtprotoRouter}. */
export interface AtprotoRouterOptions {
  /** The storage adapter the PDS runs on (the same object passed to `pds({ storage })`). */
  storage: StorageAdapter
}

/** A hosted account as the host app sees it (no secrets: no password hash, key or email). */
export interface HostedAccount {
  did: string
  handle: string
  status: AccountStatusValue
  /** Whether the account is active (serves its repo and can write). */
  active: boolean
  createdAt: string
  deactivatedAt: string | null
}

/** A record of a hosted repo; `value` is atproto JSON (`$link`, `$bytes`). */
export interface HostedRecord {
  uri: string
  cid: string
  did: string
  collection: string
  rkey: string
  value: unknown
  indexedAt: string
}

/** The state of a hosted repo. */
export interface HostedRepoStatus {
  did: string
  handle: string
  status: AccountStatusValue
  active: boolean
  /** Current commit, or null before the first one. */
  head: string | null
  rev: string | null
  collections: string[]
  records: number
}

/** A page of results; `cursor` is set when there may be more. */
export interface Page<T> {
  items: T[]
  cursor?: string
}

type Input = Record<string, unknown>

/** A Standard Schema v1 validator (the shape tRPC reads input types from) around a throwing parser. */
interface Schema<In, Out> {
  readonly '~standard': {
    readonly version: 1
    readonly vendor: string
    readonly validate: (value: unknown) => { value: Out } | { issues: Array<{ message: string }> }
    readonly types?: { readonly input: In; readonly output: Out }
  }
}

function schema<In, Out>(parse: (raw: unknown) => Out): Schema<In, Out> {
  return {
    '~standard': {
      version: 1,
      vendor: 'next-atproto',
      validate(value) {
        try {
          return { value: parse(value) }
        } catch (err) {
          return { issues: [{ message: err instanceof Error ? err.message : String(err) }] }
        }
      },
    },
  }
}

/** An account by DID, handle, or either (`repo`). */
export type AccountRef = { did: string } | { handle: string } | { repo: string }
/** A page request; `cursor` is the previous page's. */
export interface PageInput {
  limit?: number
  cursor?: string
}
/** Records of one collection of one repo. */
export interface RecordListInput extends PageInput {
  repo: string
  collection: string
  /** Oldest record key first. */
  reverse?: boolean
}
/** One record. */
export interface RecordRefInput {
  repo: string
  collection: string
  rkey: string
}
/** AppView rows of a collection, optionally of one author. */
export interface IndexedListInput extends PageInput {
  collection: string
  did?: string
}

function object(input: unknown): Input {
  if (input === undefined) return {}
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    throw new TypeError('input must be an object')
  return input as Input
}

function str(input: Input, name: string, check?: (s: string) => boolean, what?: string): string | undefined {
  const v = input[name]
  if (v === undefined) return undefined
  if (typeof v !== 'string') throw new TypeError(`${name} must be a string`)
  if (check && !check(v)) throw new TypeError(`${name} must be ${what}`)
  return v
}

function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new TypeError(`${name} is required`)
  return value
}

function limit(input: Input, max: number, fallback: number): number {
  const v = input.limit
  if (v === undefined) return fallback
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max)
    throw new TypeError(`limit must be an integer from 1 to ${max}`)
  return v
}

function bool(input: Input, name: string): boolean {
  const v = input[name]
  if (v === undefined) return false
  if (typeof v !== 'boolean') throw new TypeError(`${name} must be a boolean`)
  return v
}

const isDidOrHandle = (s: string) => isValidDid(s) || isValidHandle(s)

/** An account by DID or handle: `{ did }`, `{ handle }`, or `{ repo }` (either). */
const accountRef = schema<AccountRef, { repo: string }>((raw) => {
  const input = object(raw)
  const did = str(input, 'did', isValidDid, 'a DID')
  const handle = str(input, 'handle', isValidHandle, 'a handle')
  const repo = str(input, 'repo', isDidOrHandle, 'a DID or handle')
  const given = [did, handle, repo].filter((v) => v !== undefined)
  if (given.length !== 1) throw new TypeError('give exactly one of did, handle or repo')
  return { repo: given[0]! }
})

const accountList = schema<PageInput | undefined, { limit: number; cursor?: string }>((raw) => {
  const input = object(raw)
  return {
    limit: limit(input, 100, 50),
    cursor: str(input, 'cursor', isValidDid, 'a DID (a previous cursor)'),
  }
})

const recordList = schema<RecordListInput, Required<Omit<RecordListInput, 'cursor'>> & PageInput>((raw) => {
  const input = object(raw)
  return {
    repo: required(str(input, 'repo', isDidOrHandle, 'a DID or handle'), 'repo'),
    collection: required(str(input, 'collection', isValidNsid, 'an NSID'), 'collection'),
    limit: limit(input, 100, 50),
    cursor: str(input, 'cursor', isValidRecordKey, 'a record key (a previous cursor)'),
    reverse: bool(input, 'reverse'),
  }
})

const recordRef = schema<RecordRefInput, RecordRefInput>((raw) => {
  const input = object(raw)
  return {
    repo: required(str(input, 'repo', isDidOrHandle, 'a DID or handle'), 'repo'),
    collection: required(str(input, 'collection', isValidNsid, 'an NSID'), 'collection'),
    rkey: required(str(input, 'rkey', isValidRecordKey, 'a record key'), 'rkey'),
  }
})

const indexedList = schema<IndexedListInput, IndexedListInput & { limit: number }>((raw) => {
  const input = object(raw)
  return {
    collection: required(str(input, 'collection', isValidNsid, 'an NSID'), 'collection'),
    did: str(input, 'did', isValidDid, 'a DID'),
    limit: limit(input, 100, 50),
    cursor: str(input, 'cursor'),
  }
})

function toHostedAccount(row: AccountRow): HostedAccount {
  return {
    did: row.did,
    handle: row.handle,
    status: row.status,
    active: row.status === 'active',
    createdAt: row.createdAt.toISOString(),
    deactivatedAt: row.deactivatedAt?.toISOString() ?? null,
  }
}

/**
 * The tRPC router over the framework's storage. Procedures (all queries):
 * - `accounts.list({ limit?, cursor? })`, `accounts.get({ did } | { handle } | { repo })` (null when unknown)
 * - `records.list({ repo, collection, limit?, cursor?, reverse? })` (newest record key first),
 *   `records.get({ repo, collection, rkey })` (null when absent)
 * - `repo.status({ did } | { handle } | { repo })`
 * - `indexed.list({ collection, did?, limit?, cursor? })`: AppView rows, when the adapter has an indexer
 *
 * Deleted and taken-down accounts are not served (`NOT_FOUND`), like the PDS's public endpoints.
 * AppView tables of a later release join as further sub-routers; nest this router in the app's own
 * (`t.router({ atproto: createAtprotoRouter(...) })`) rather than spreading it, so they appear there too.
 */
export function createAtprotoRouter(options: AtprotoRouterOptions) {
  const { storage } = options
  const t = initTRPC.create()

  const findAccount = async (repo: string): Promise<AccountRow | null> => {
    const row = repo.startsWith('did:')
      ? await storage.accounts.getByDid(repo)
      : await storage.accounts.getByHandle(repo.toLowerCase())
    return row && row.status !== 'deleted' ? row : null
  }
  const servedAccount = async (repo: string): Promise<AccountRow> => {
    const row = await findAccount(repo)
    if (!row) throw new TRPCError({ code: 'NOT_FOUND', message: `no hosted account ${repo}` })
    if (row.status === 'takendown')
      throw new TRPCError({ code: 'NOT_FOUND', message: `account ${repo} is taken down` })
    return row
  }
  const uri = (did: string, collection: string, rkey: string) => `at://${did}/${collection}/${rkey}`

  return t.router({
    accounts: t.router({
      list: t.procedure.input(accountList).query(async ({ input }): Promise<Page<HostedAccount>> => {
        const rows = await storage.accounts.list({ limit: input.limit, cursor: input.cursor })
        const last = rows.at(-1)
        return {
          items: rows.filter((r) => r.status !== 'deleted').map(toHostedAccount),
          cursor: rows.length === input.limit && last ? last.did : undefined,
        }
      }),
      get: t.procedure.input(accountRef).query(async ({ input }): Promise<HostedAccount | null> => {
        const row = await findAccount(input.repo)
        return row ? toHostedAccount(row) : null
      }),
    }),

    records: t.router({
      list: t.procedure.input(recordList).query(async ({ input }): Promise<Page<HostedRecord>> => {
        const { did } = await servedAccount(input.repo)
        const rows = await storage.repo.read(did, async (r) => {
          const page = await r.listRecords(input.collection, {
            limit: input.limit,
            cursor: input.cursor,
            reverse: input.reverse,
          })
          const { blocks } = await r.getBlocks(page.map((row) => row.cid))
          return page.map((row) => ({ row, bytes: blocks.get(row.cid) }))
        })
        const last = rows.at(-1)
        return {
          items: rows
            .filter((r) => r.bytes)
            .map(({ row, bytes }) => ({
              uri: uri(did, row.collection, row.rkey),
              cid: row.cid.toString(),
              did,
              collection: row.collection,
              rkey: row.rkey,
              value: ipldToJson(decodeCbor(bytes!)),
              indexedAt: row.indexedAt.toISOString(),
            })),
          cursor: rows.length === input.limit && last ? last.row.rkey : undefined,
        }
      }),
      get: t.procedure.input(recordRef).query(async ({ input }): Promise<HostedRecord | null> => {
        const { did } = await servedAccount(input.repo)
        return storage.repo.read(did, async (r) => {
          const row = await r.getRecord(input.collection, input.rkey)
          if (!row) return null
          const { blocks } = await r.getBlocks([row.cid])
          const bytes = blocks.get(row.cid)
          if (!bytes) return null
          return {
            uri: uri(did, row.collection, row.rkey),
            cid: row.cid.toString(),
            did,
            collection: row.collection,
            rkey: row.rkey,
            value: ipldToJson(decodeCbor(bytes)),
            indexedAt: row.indexedAt.toISOString(),
          }
        })
      }),
    }),

    repo: t.router({
      status: t.procedure.input(accountRef).query(async ({ input }): Promise<HostedRepoStatus> => {
        const account = await servedAccount(input.repo)
        const { root, collections, records } = await storage.repo.read(account.did, async (r) => ({
          root: await r.getRoot(),
          collections: await r.listCollections(),
          records: await r.countRecords(),
        }))
        return {
          did: account.did,
          handle: account.handle,
          status: account.status,
          active: account.status === 'active',
          head: root?.cid.toString() ?? null,
          rev: root?.rev ?? null,
          collections,
          records,
        }
      }),
    }),

    indexed: t.router({
      list: t.procedure.input(indexedList).query(async ({ input }) => {
        if (!storage.indexer)
          throw new TRPCError({
            code: 'PRECONDITION_FAILED',
            message: `${storage.id} has no AppView indexer`,
          })
        const rows = await storage.indexer.listRows(input.collection, {
          limit: input.limit,
          cursor: input.cursor,
          did: input.did,
        })
        const last = rows.at(-1)
        return {
          items: rows.map((row) => ({ ...row, indexedAt: row.indexedAt.toISOString() })),
          cursor:
            rows.length === input.limit && last ? `${last.indexedAt.getTime()}::${last.uri}` : undefined,
        }
      }),
    }),
  })
}

/** The router's type, for typed callers and clients (`createTRPCClient<AtprotoRouter>`). */
export type AtprotoRouter = ReturnType<typeof createAtprotoRouter>
