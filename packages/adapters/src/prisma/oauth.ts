/**
 * The OAuth authorization server's state over Prisma (tables of prisma/oauth.prisma). Every method the
 * OAuthStore contract marks **atomic** is one conditional statement (`updateMany … where <still valid>`,
 * a primary-key insert, a `deleteMany` whose count decides), never a read followed by a blind write:
 * concurrent callers across processes then get exactly one winner on SQLite, PostgreSQL and MySQL alike,
 * because each database re-checks the WHERE clause of an UPDATE/DELETE on the row it locks.
 */
import { createHash } from 'node:crypto'
import type {
  AuthorizationRequestRecord,
  CodeGrant,
  DeviceSessionRecord,
  OAuthClientMetadata,
  OAuthSessionRecord,
  OAuthStore,
} from '@next-atproto/core'
import { type Delegate, prismaCode } from './client.js'

/** The delegates of prisma/oauth.prisma, as the store sees them (structural, see client.ts). */
export interface OAuthClientLike {
  atprotoOAuthUnique: Delegate
  atprotoOAuthRequest: Delegate
  atprotoOAuthCode: Delegate
  atprotoOAuthSession: Delegate
  atprotoOAuthRefreshHash: Delegate
  atprotoOAuthDevice: Delegate
  atprotoOAuthClient: Delegate
  $transaction<T>(fn: (tx: any) => Promise<T>): Promise<T>
}

/** True when the client was generated with the OAuth fragment (`next-atproto-prisma sync --only oauth`). */
export function hasOAuthModels(client: object): client is OAuthClientLike {
  return 'atprotoOAuthSession' in client && 'atprotoOAuthUnique' in client
}

/** A used code stays known this long, so a late replay still revokes what the first use issued. */
const USED_CODE_RETENTION_MS = 24 * 3600_000
/** Expired rows are swept at most this often per process. */
const SWEEP_INTERVAL_MS = 60_000

/**
 * Keys longer than this are stored as their SHA-256: MySQL indexes Prisma strings as VARCHAR(191), and
 * loopback client IDs (with query parameters) can be longer.
 */
export function storageKey(key: string): string {
  return key.length > 180 ? `sha256:${createHash('sha256').update(key).digest('hex')}` : key
}

type SessionData = Pick<OAuthSessionRecord, 'clientId' | 'clientAuth' | 'scope' | 'dpopJkt' | 'createdAt'>

const toSession = (r: any): OAuthSessionRecord => {
  const data = r.data as SessionData
  const s: OAuthSessionRecord = {
    id: r.id,
    sub: r.sub,
    code: r.code,
    refreshTokenHash: r.refreshTokenHash,
    refreshExpiresAt: r.refreshExpiresAt.getTime(),
    expiresAt: r.expiresAt.getTime(),
    clientId: data.clientId,
    clientAuth: data.clientAuth,
    scope: data.scope,
    dpopJkt: data.dpopJkt,
    createdAt: data.createdAt,
  }
  if (r.revokedAt) s.revokedAt = r.revokedAt.getTime()
  return s
}

/** {@link OAuthStore} over Prisma. */
export class PrismaOAuthStore implements OAuthStore {
  #sweepAt = 0

  constructor(
    private readonly db: OAuthClientLike,
    private readonly now: () => number = Date.now,
  ) {}

  /** Drop expired rows now and then (no timers: the store lives inside request handlers). */
  async #sweep(): Promise<void> {
    const now = this.now()
    if (now < this.#sweepAt) return
    this.#sweepAt = now + SWEEP_INTERVAL_MS
    const expired = { expiresAt: { lte: new Date(now) } }
    await Promise.all([
      this.db.atprotoOAuthUnique.deleteMany({ where: expired }),
      this.db.atprotoOAuthRequest.deleteMany({ where: expired }),
      this.db.atprotoOAuthCode.deleteMany({ where: expired }),
      this.db.atprotoOAuthDevice.deleteMany({ where: expired }),
      this.db.atprotoOAuthClient.deleteMany({ where: expired }),
    ])
  }

  async unique(namespace: string, key: string, ttlMs: number): Promise<boolean> {
    await this.#sweep()
    const now = this.now()
    const id = { namespace, key: storageKey(key) }
    // An expired entry no longer blocks: remove it, then the primary key decides between racers.
    await this.db.atprotoOAuthUnique.deleteMany({ where: { ...id, expiresAt: { lte: new Date(now) } } })
    try {
      await this.db.atprotoOAuthUnique.create({ data: { ...id, expiresAt: new Date(now + ttlMs) } })
      return true
    } catch (err) {
      if (prismaCode(err) === 'P2002') return false
      throw err
    }
  }

  async createRequest(record: AuthorizationRequestRecord): Promise<void> {
    await this.#sweep()
    await this.db.atprotoOAuthRequest.create({
      data: { id: record.id, data: record, expiresAt: new Date(record.expiresAt) },
    })
  }

  async readRequest(id: string): Promise<AuthorizationRequestRecord | null> {
    const r = await this.db.atprotoOAuthRequest.findUnique({ where: { id } })
    return r ? (r.data as AuthorizationRequestRecord) : null
  }

  async updateRequest(
    id: string,
    patch: Partial<Pick<AuthorizationRequestRecord, 'deviceId' | 'sub' | 'expiresAt'>>,
  ): Promise<void> {
    // Read-modify-write of the JSON document in one transaction, so concurrent patches do not lose fields.
    await this.db.$transaction(async (tx) => {
      const r = await tx.atprotoOAuthRequest.findUnique({ where: { id } })
      if (!r) return
      const data = { ...(r.data as AuthorizationRequestRecord), ...patch }
      await tx.atprotoOAuthRequest.updateMany({
        where: { id },
        data: { data, expiresAt: new Date(data.expiresAt) },
      })
    })
  }

  async consumeRequest(id: string): Promise<AuthorizationRequestRecord | null> {
    const r = await this.db.atprotoOAuthRequest.findUnique({ where: { id } })
    if (!r) return null
    // Only the caller whose delete removed the row gets it.
    const { count } = await this.db.atprotoOAuthRequest.deleteMany({ where: { id } })
    return count === 1 ? (r.data as AuthorizationRequestRecord) : null
  }

  async createCode(code: string, grant: CodeGrant, expiresAt: number): Promise<void> {
    await this.#sweep()
    await this.db.atprotoOAuthCode.create({
      data: { code, grant, used: false, expiresAt: new Date(expiresAt) },
    })
  }

  async consumeCode(code: string): Promise<{ grant: CodeGrant; reused: boolean } | null> {
    const now = this.now()
    const { count } = await this.db.atprotoOAuthCode.updateMany({
      where: { code, used: false, expiresAt: { gt: new Date(now) } },
      data: { used: true, expiresAt: new Date(now + USED_CODE_RETENTION_MS) },
    })
    const r = await this.db.atprotoOAuthCode.findUnique({ where: { code } })
    if (!r) return null
    if (count === 1) return { grant: r.grant as CodeGrant, reused: false }
    // Not ours: either used before (a replay, reported while the code is retained) or expired unused.
    return r.used && r.expiresAt.getTime() > now ? { grant: r.grant as CodeGrant, reused: true } : null
  }

  async createSession(record: OAuthSessionRecord): Promise<void> {
    await this.#sweep()
    const data: SessionData = {
      clientId: record.clientId,
      clientAuth: record.clientAuth,
      scope: record.scope,
      dpopJkt: record.dpopJkt,
      createdAt: record.createdAt,
    }
    await this.db.$transaction(async (tx) => {
      await tx.atprotoOAuthSession.create({
        data: {
          id: record.id,
          sub: record.sub,
          code: record.code,
          refreshTokenHash: record.refreshTokenHash,
          refreshExpiresAt: new Date(record.refreshExpiresAt),
          expiresAt: new Date(record.expiresAt),
          revokedAt: record.revokedAt === undefined ? null : new Date(record.revokedAt),
          data,
        },
      })
      await tx.atprotoOAuthRefreshHash.create({
        data: { hash: record.refreshTokenHash, sessionId: record.id },
      })
    })
  }

  async getSession(id: string): Promise<OAuthSessionRecord | null> {
    const r = await this.db.atprotoOAuthSession.findUnique({ where: { id } })
    return r ? toSession(r) : null
  }

  async findSessionByRefreshToken(
    hash: string,
  ): Promise<{ session: OAuthSessionRecord; current: boolean } | null> {
    const h = await this.db.atprotoOAuthRefreshHash.findUnique({ where: { hash } })
    if (!h) return null
    const session = await this.getSession(h.sessionId)
    return session ? { session, current: session.refreshTokenHash === hash } : null
  }

  async rotateRefreshToken(
    id: string,
    oldHash: string,
    newHash: string,
    refreshExpiresAt: number,
  ): Promise<boolean> {
    return this.db.$transaction(async (tx) => {
      // Compare-and-swap: the WHERE is re-checked on the locked row, so one concurrent caller wins.
      const { count } = await tx.atprotoOAuthSession.updateMany({
        where: { id, refreshTokenHash: oldHash, revokedAt: null },
        data: { refreshTokenHash: newHash, refreshExpiresAt: new Date(refreshExpiresAt) },
      })
      if (count !== 1) return false
      await tx.atprotoOAuthRefreshHash.create({ data: { hash: newHash, sessionId: id } })
      return true
    })
  }

  async revokeSession(id: string): Promise<void> {
    await this.db.atprotoOAuthSession.updateMany({
      where: { id, revokedAt: null },
      data: { revokedAt: new Date(this.now()) },
    })
  }

  async revokeSessionsByCode(code: string): Promise<void> {
    await this.db.atprotoOAuthSession.updateMany({
      where: { code, revokedAt: null },
      data: { revokedAt: new Date(this.now()) },
    })
  }

  async listSessions(sub: string): Promise<OAuthSessionRecord[]> {
    const rows = await this.db.atprotoOAuthSession.findMany({
      where: { sub, revokedAt: null, expiresAt: { gt: new Date(this.now()) } },
      orderBy: { id: 'asc' },
    })
    return rows.map(toSession)
  }

  async createDeviceSession(record: DeviceSessionRecord): Promise<void> {
    const data = { sub: record.sub, expiresAt: new Date(record.expiresAt) }
    await this.db.atprotoOAuthDevice.upsert({
      where: { deviceId: record.deviceId },
      create: { deviceId: record.deviceId, ...data },
      update: data,
    })
  }

  async getDeviceSession(deviceId: string): Promise<DeviceSessionRecord | null> {
    const r = await this.db.atprotoOAuthDevice.findUnique({ where: { deviceId } })
    if (!r || r.expiresAt.getTime() <= this.now()) return null
    return { deviceId: r.deviceId, sub: r.sub, expiresAt: r.expiresAt.getTime() }
  }

  async deleteDeviceSession(deviceId: string): Promise<void> {
    await this.db.atprotoOAuthDevice.deleteMany({ where: { deviceId } })
  }

  async getCachedClient(clientId: string): Promise<OAuthClientMetadata | null> {
    const r = await this.db.atprotoOAuthClient.findUnique({ where: { key: storageKey(clientId) } })
    return r && r.expiresAt.getTime() > this.now() ? (r.metadata as OAuthClientMetadata) : null
  }

  async setCachedClient(clientId: string, metadata: OAuthClientMetadata, expiresAt: number): Promise<void> {
    const key = storageKey(clientId)
    const data = { metadata, expiresAt: new Date(expiresAt) }
    await this.db.atprotoOAuthClient.upsert({ where: { key }, create: { key, ...data }, update: data })
  }
}
