/**
 * The OAuth client's state over Prisma (tables of prisma/oauth-client.prisma). The refresh lease and the
 * token swap are single conditional UPDATEs (`updateMany … where <lease free | held by me>`), so across
 * processes exactly one caller wins on SQLite, PostgreSQL and MySQL: each database re-checks the WHERE
 * clause on the row it locks. No Redis, no advisory locks.
 */
import type {
  OAuthClientSessionRecord,
  OAuthClientStateRecord,
  OAuthClientStore,
  OAuthTokenSet,
  StoredOAuthClientSession,
} from '@next-atproto/core'
import type { Delegate } from './client.js'

/** The delegates of prisma/oauth-client.prisma (structural, see client.ts). */
export interface OAuthClientClientLike {
  atprotoOAuthClientState: Delegate
  atprotoOAuthClientSession: Delegate
}

/** True when the client was generated with the OAuth client fragment. */
export function hasOAuthClientModels(client: object): client is OAuthClientClientLike {
  return 'atprotoOAuthClientState' in client && 'atprotoOAuthClientSession' in client
}

type SessionData = Pick<OAuthClientSessionRecord, 'issuer' | 'pdsUrl' | 'dpopKey' | 'authMethod'>

const SWEEP_INTERVAL_MS = 60_000

const toSession = (r: any): StoredOAuthClientSession => {
  const data = r.data as SessionData
  const s: StoredOAuthClientSession = {
    id: r.id,
    did: r.did,
    issuer: data.issuer,
    pdsUrl: data.pdsUrl,
    dpopKey: data.dpopKey,
    authMethod: data.authMethod,
    tokens: r.tokens as OAuthTokenSet,
    version: r.version,
    createdAt: r.createdAt.getTime(),
    updatedAt: r.updatedAt.getTime(),
  }
  if (r.lockOwner && r.lockExpiresAt) s.lock = { owner: r.lockOwner, expiresAt: r.lockExpiresAt.getTime() }
  return s
}

/** {@link OAuthClientStore} over Prisma. */
export class PrismaOAuthClientStore implements OAuthClientStore {
  #sweepAt = 0

  /**
   * The store over an app's own PrismaClient (an AppView without the PDS models); the client must be
   * generated with the `oauth-client` fragment (`npx next-atproto-prisma sync --only appview`).
   */
  static from(client: unknown): PrismaOAuthClientStore {
    if (!client || typeof client !== 'object' || !hasOAuthClientModels(client)) {
      throw new TypeError(
        'PrismaOAuthClientStore: this PrismaClient has no OAuth client models; run `npx next-atproto-prisma sync --only appview` and regenerate it',
      )
    }
    return new PrismaOAuthClientStore(client)
  }

  constructor(
    private readonly db: OAuthClientClientLike,
    private readonly now: () => number = Date.now,
  ) {}

  async putState(state: string, record: OAuthClientStateRecord, expiresAt: number): Promise<void> {
    const now = this.now()
    if (now >= this.#sweepAt) {
      // Abandoned logins: swept now and then, no timers (the store lives inside request handlers).
      this.#sweepAt = now + SWEEP_INTERVAL_MS
      await this.db.atprotoOAuthClientState.deleteMany({ where: { expiresAt: { lte: new Date(now) } } })
    }
    await this.db.atprotoOAuthClientState.create({
      data: { state, data: record, expiresAt: new Date(expiresAt) },
    })
  }

  async takeState(state: string): Promise<OAuthClientStateRecord | null> {
    const r = await this.db.atprotoOAuthClientState.findUnique({ where: { state } })
    if (!r) return null
    // Only the caller whose delete removed the row gets it.
    const { count } = await this.db.atprotoOAuthClientState.deleteMany({ where: { state } })
    if (count !== 1 || r.expiresAt.getTime() <= this.now()) return null
    return r.data as OAuthClientStateRecord
  }

  async createSession(record: OAuthClientSessionRecord): Promise<void> {
    const data: SessionData = {
      issuer: record.issuer,
      pdsUrl: record.pdsUrl,
      dpopKey: record.dpopKey,
      authMethod: record.authMethod,
    }
    await this.db.atprotoOAuthClientSession.create({
      data: {
        id: record.id,
        did: record.did,
        data,
        tokens: record.tokens,
        version: record.version,
        createdAt: new Date(record.createdAt),
        updatedAt: new Date(record.updatedAt),
      },
    })
  }

  async getSession(id: string): Promise<StoredOAuthClientSession | null> {
    const r = await this.db.atprotoOAuthClientSession.findUnique({ where: { id } })
    return r ? toSession(r) : null
  }

  async listSessions(did: string): Promise<OAuthClientSessionRecord[]> {
    const rows = await this.db.atprotoOAuthClientSession.findMany({
      where: { did },
      orderBy: { createdAt: 'desc' },
    })
    return rows.map((r) => {
      const { lock: _, ...s } = toSession(r)
      return s
    })
  }

  async acquireRefreshLock(id: string, owner: string, expiresAt: number, now: number): Promise<boolean> {
    const { count } = await this.db.atprotoOAuthClientSession.updateMany({
      where: { id, OR: [{ lockExpiresAt: null }, { lockExpiresAt: { lte: new Date(now) } }] },
      data: { lockOwner: owner, lockExpiresAt: new Date(expiresAt) },
    })
    return count === 1
  }

  async saveRefreshedTokens(id: string, owner: string, tokens: OAuthTokenSet): Promise<boolean> {
    const { count } = await this.db.atprotoOAuthClientSession.updateMany({
      where: { id, lockOwner: owner },
      data: {
        tokens,
        version: { increment: 1 },
        lockOwner: null,
        lockExpiresAt: null,
        updatedAt: new Date(this.now()),
      },
    })
    return count === 1
  }

  async releaseRefreshLock(id: string, owner: string): Promise<void> {
    await this.db.atprotoOAuthClientSession.updateMany({
      where: { id, lockOwner: owner },
      data: { lockOwner: null, lockExpiresAt: null },
    })
  }

  async deleteSession(id: string): Promise<void> {
    await this.db.atprotoOAuthClientSession.deleteMany({ where: { id } })
  }
}
