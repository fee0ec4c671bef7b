import { BlockMap, cidForBytes, encodeCbor, type StorageAdapter } from '@next-atproto/core'

/** Shared by the suites of one `runStorageConformance` call; `storage` is set in `beforeAll`. */
export interface SuiteContext {
  storage: StorageAdapter
}

/** A DAG-CBOR block of `value`. */
export const block = (value: unknown) => {
  const bytes = encodeCbor(value)
  return { cid: cidForBytes(bytes), bytes }
}

/** A BlockMap holding the given blocks. */
export const blocksOf = (...list: Array<{ cid: ReturnType<typeof cidForBytes>; bytes: Uint8Array }>) => {
  const map = new BlockMap()
  for (const b of list) map.set(b.cid, b.bytes)
  return map
}

/** A firehose event body. */
export const body = (n: number) => encodeCbor({ n })

let counter = 0
/** A DID no other test (or earlier run against the same database) uses. */
export const uniqueDid = () =>
  `did:plc:t${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 8)}`

/** Rev strings that sort like TIDs. */
export const rev = (n: number) => `3l${String(n).padStart(11, '0')}`

/** A minimal account row for `did`. */
export const accountRow = (did: string, extra: { email?: string | null; handle?: string } = {}) => ({
  did,
  handle: extra.handle ?? `${did.slice(8)}.test`,
  email: extra.email ?? null,
  passwordHash: null,
  signingKey: new Uint8Array(32).fill(7),
  status: 'active' as const,
})

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
