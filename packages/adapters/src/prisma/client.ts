/**
 * The Prisma client as the adapter sees it: structurally, never the user's generated type (which we
 * do not own and which differs per schema). Only the delegates of our `Atproto*` models are used.
 */

/** A model delegate (the subset of methods the adapter calls). */
export interface Delegate {
  findUnique(args: unknown): Promise<any>
  findFirst(args: unknown): Promise<any>
  findMany(args: unknown): Promise<any[]>
  create(args: unknown): Promise<any>
  createMany(args: unknown): Promise<{ count: number }>
  update(args: unknown): Promise<any>
  updateMany(args: unknown): Promise<{ count: number }>
  upsert(args: unknown): Promise<any>
  delete(args: unknown): Promise<any>
  deleteMany(args: unknown): Promise<{ count: number }>
  count(args?: unknown): Promise<number>
}

/** What the adapter needs inside and outside a transaction. */
export interface PrismaTx {
  atprotoAccount: Delegate
  atprotoRefreshToken: Delegate
  atprotoAppPassword: Delegate
  atprotoEmailToken: Delegate
  atprotoRepoRoot: Delegate
  atprotoRepoBlock: Delegate
  atprotoRecord: Delegate
  atprotoSeqEvent: Delegate
  atprotoSeqLock: Delegate
  atprotoBlob: Delegate
  atprotoBlobRef: Delegate
  atprotoRateLimit: Delegate
  atprotoPlcOp: Delegate
  $executeRawUnsafe(sql: string, ...values: unknown[]): Promise<number>
  $queryRawUnsafe<T = unknown>(sql: string, ...values: unknown[]): Promise<T>
}

/** A PrismaClient generated from a schema that includes the atproto fragment. */
export interface PrismaClientLike extends PrismaTx {
  $transaction<T>(
    fn: (tx: PrismaTx) => Promise<T>,
    options?: {
      maxWait?: number
      timeout?: number
      isolationLevel?: string
      /** Ours, not Prisma's (stripped by serialize.ts): the transaction only reads. */
      readOnly?: boolean
    },
  ): Promise<T>
  $disconnect(): Promise<void>
}

/** Database flavour of the client. */
export type PrismaProvider = 'sqlite' | 'postgresql' | 'mysql'

/** `P2002`: unique constraint violation; `P2025`: record to update/delete not found. */
export function prismaCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}
