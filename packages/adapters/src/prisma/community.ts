/** Community handles (prisma/community.prisma) over Prisma: optional, present when the client has the model. */
import { type CommunityHandleRow, type CommunityHandleStore, HandleTakenError } from '@next-atproto/core'
import { type Delegate, prismaCode } from './client.js'

/** The community handle delegate (structural). */
export interface CommunityClientLike {
  atprotoCommunityHandle: Delegate
}

export const hasCommunityModels = (client: object): client is CommunityClientLike =>
  'atprotoCommunityHandle' in client

const toRow = (r: { handle: string; did: string; createdAt: Date }): CommunityHandleRow => ({
  handle: r.handle,
  did: r.did,
  createdAt: r.createdAt,
})

/** {@link CommunityHandleStore} in the database; uniqueness is the primary key's. */
export class PrismaCommunityHandleStore implements CommunityHandleStore {
  constructor(private readonly db: CommunityClientLike) {}

  async create(row: Omit<CommunityHandleRow, 'createdAt'>): Promise<void> {
    const handle = row.handle.toLowerCase()
    try {
      await this.db.atprotoCommunityHandle.create({ data: { handle, did: row.did } })
    } catch (err) {
      if (prismaCode(err) === 'P2002') throw new HandleTakenError(handle)
      throw err
    }
  }

  async get(handle: string): Promise<CommunityHandleRow | null> {
    const r = await this.db.atprotoCommunityHandle.findUnique({ where: { handle: handle.toLowerCase() } })
    return r ? toRow(r) : null
  }

  async listForDid(did: string): Promise<CommunityHandleRow[]> {
    const rows = await this.db.atprotoCommunityHandle.findMany({
      where: { did },
      orderBy: [{ createdAt: 'asc' }, { handle: 'asc' }],
    })
    return rows.map(toRow)
  }

  async delete(handle: string): Promise<boolean> {
    const { count } = await this.db.atprotoCommunityHandle.deleteMany({
      where: { handle: handle.toLowerCase() },
    })
    return count > 0
  }
}
