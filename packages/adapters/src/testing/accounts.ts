import { HandleTakenError, UniqueConstraintError } from '@next-atproto/core'
import { expect, it } from 'vitest'
import { accountRow, type SuiteContext, uniqueDid } from './fixtures.js'

const inAMinute = () => new Date(Date.now() + 60_000)

/** Accounts contract: unique values, status, sessions, app passwords, single-use email tokens. */
export function accountSuite(ctx: SuiteContext): void {
  it('creates an account and finds it by DID, handle and email', async () => {
    const { accounts } = ctx.storage
    const did = uniqueDid()
    const email = `${did.slice(8)}@example.com`
    await accounts.create({ ...accountRow(did, { email }), passwordHash: 'scrypt$x' })
    const row = await accounts.getByDid(did)
    expect(row).toMatchObject({ did, email, passwordHash: 'scrypt$x', status: 'active', deactivatedAt: null })
    expect(row?.signingKey).toEqual(new Uint8Array(32).fill(7))
    expect(row?.createdAt).toBeInstanceOf(Date)
    expect((await accounts.getByHandle(row!.handle))?.did).toBe(did)
    expect((await accounts.getByEmail(email))?.did).toBe(did)
    expect(await accounts.getByDid(uniqueDid())).toBeNull()
    expect(await accounts.getByHandle('nobody.invalid')).toBeNull()
    expect(await accounts.getByEmail('nobody@invalid')).toBeNull()
  })

  it('refuses a taken handle, email or DID with typed errors', async () => {
    const { accounts } = ctx.storage
    const did = uniqueDid()
    const email = `${did.slice(8)}@example.com`
    const row = accountRow(did, { email })
    await accounts.create(row)
    const handleClash = accounts.create({ ...accountRow(uniqueDid()), handle: row.handle })
    await expect(handleClash).rejects.toBeInstanceOf(HandleTakenError)
    await expect(accounts.create(accountRow(uniqueDid(), { email }))).rejects.toMatchObject({
      field: 'email',
    })
    await expect(accounts.create(accountRow(did, { handle: `other-${row.handle}` }))).rejects.toBeInstanceOf(
      UniqueConstraintError,
    )
    expect((await accounts.getByHandle(row.handle))?.did).toBe(did)
  })

  it('lets exactly one of concurrent creations claim a handle', async () => {
    const { accounts } = ctx.storage
    const handle = `${uniqueDid().slice(8)}.race.test`
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () => accounts.create(accountRow(uniqueDid(), { handle }))),
    )
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
    for (const r of results)
      if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(UniqueConstraintError)
  })

  it('updates handle (unique), email, password and status', async () => {
    const { accounts } = ctx.storage
    const [a, b] = [uniqueDid(), uniqueDid()]
    await accounts.create(accountRow(a))
    await accounts.create(accountRow(b))
    const bHandle = (await accounts.getByDid(b))!.handle
    await expect(accounts.updateHandle(a, bHandle)).rejects.toBeInstanceOf(HandleTakenError)
    const oldHandle = (await accounts.getByDid(a))!.handle
    await accounts.updateHandle(a, oldHandle) // its own handle: no conflict
    await accounts.updateHandle(a, `new-${oldHandle}`)
    expect(await accounts.getByHandle(oldHandle)).toBeNull()
    expect((await accounts.getByHandle(`new-${oldHandle}`))?.did).toBe(a)

    await accounts.updateEmail(a, `${a.slice(8)}@mail.test`)
    expect((await accounts.getByEmail(`${a.slice(8)}@mail.test`))?.did).toBe(a)
    await accounts.updatePassword(a, 'hash-2')
    expect((await accounts.getByDid(a))?.passwordHash).toBe('hash-2')

    await accounts.updateStatus(a, 'deactivated')
    const deactivated = await accounts.getByDid(a)
    expect(deactivated?.status).toBe('deactivated')
    expect(deactivated?.deactivatedAt).toBeInstanceOf(Date)
    for (const status of ['takendown', 'deleted', 'active'] as const) {
      await accounts.updateStatus(a, status)
      expect((await accounts.getByDid(a))?.status).toBe(status)
    }
    expect((await accounts.getByDid(a))?.deactivatedAt).toBeNull()
  })

  it('lists accounts in DID order with a cursor', async () => {
    const { accounts } = ctx.storage
    const dids = Array.from({ length: 5 }, uniqueDid)
    for (const did of dids) await accounts.create(accountRow(did))
    const all: string[] = []
    let cursor: string | undefined
    for (;;) {
      const page = await accounts.list({ limit: 2, cursor })
      if (page.length === 0) break
      all.push(...page.map((a) => a.did))
      cursor = page.at(-1)!.did
    }
    expect(all).toEqual([...all].sort())
    expect(new Set(all).size).toBe(all.length)
    for (const did of dids) expect(all).toContain(did)
  })

  it('deletes an account with its sessions and app passwords', async () => {
    const { accounts } = ctx.storage
    const did = uniqueDid()
    await accounts.create(accountRow(did))
    await accounts.createAppPassword({
      did,
      name: 'app',
      passwordHash: 'h',
      privileged: false,
      createdAt: new Date(),
    })
    await accounts.createRefreshToken({
      id: `del-${did}`,
      did,
      appPasswordName: null,
      expiresAt: inAMinute(),
      nextId: null,
    })
    await accounts.delete(did)
    expect(await accounts.getByDid(did)).toBeNull()
    expect(await accounts.getRefreshToken(`del-${did}`)).toBeNull()
    expect(await accounts.listAppPasswords(did)).toEqual([])
  })

  it('rotates a refresh token exactly once, even concurrently, and revokes by id or DID', async () => {
    const { accounts } = ctx.storage
    const did = uniqueDid()
    await accounts.create(accountRow(did))
    const token = { did, appPasswordName: null, expiresAt: inAMinute(), nextId: null }
    await accounts.createRefreshToken({ ...token, id: `r1-${did}` })
    expect(await accounts.getRefreshToken(`r1-${did}`)).toMatchObject({
      did,
      nextId: null,
      appPasswordName: null,
    })
    const rotations = await Promise.all(
      Array.from({ length: 8 }, (_, i) => accounts.rotateRefreshToken(`r1-${did}`, `n${i}-${did}`)),
    )
    expect(rotations.filter(Boolean)).toHaveLength(1)
    expect(await accounts.rotateRefreshToken(`r1-${did}`, `late-${did}`)).toBe(false)
    expect(await accounts.rotateRefreshToken(`never-${did}`, `x-${did}`)).toBe(false)

    await accounts.createAppPassword({
      did,
      name: 'phone',
      passwordHash: 'h',
      privileged: false,
      createdAt: new Date(),
    })
    await accounts.createRefreshToken({ ...token, id: `r2-${did}` })
    await accounts.createRefreshToken({ ...token, id: `r3-${did}`, appPasswordName: 'phone' })
    await accounts.createRefreshToken({ ...token, id: `r4-${did}` })
    await accounts.deleteRefreshToken(`r4-${did}`)
    expect(await accounts.getRefreshToken(`r4-${did}`)).toBeNull()
    await accounts.deleteRefreshTokensForDid(did, 'phone')
    expect(await accounts.getRefreshToken(`r3-${did}`)).toBeNull()
    expect(await accounts.getRefreshToken(`r2-${did}`)).not.toBeNull()
    await accounts.deleteRefreshTokensForDid(did)
    expect(await accounts.getRefreshToken(`r2-${did}`)).toBeNull()
  })

  it('creates, lists and revokes app passwords (names unique per account)', async () => {
    const { accounts } = ctx.storage
    const [did, other] = [uniqueDid(), uniqueDid()]
    await accounts.create(accountRow(did))
    await accounts.create(accountRow(other))
    const app = { did, name: 'laptop', passwordHash: 'h1', privileged: true, createdAt: new Date() }
    await accounts.createAppPassword(app)
    await accounts.createAppPassword({ ...app, name: 'phone', privileged: false })
    await accounts.createAppPassword({ ...app, did: other }) // same name, other account: fine
    await expect(accounts.createAppPassword(app)).rejects.toBeInstanceOf(UniqueConstraintError)
    const list = await accounts.listAppPasswords(did)
    expect(list.map((a) => a.name).sort()).toEqual(['laptop', 'phone'])
    expect(list.find((a) => a.name === 'laptop')).toMatchObject({ passwordHash: 'h1', privileged: true })
    await accounts.deleteAppPassword(did, 'laptop')
    expect((await accounts.listAppPasswords(did)).map((a) => a.name)).toEqual(['phone'])
    expect(await accounts.listAppPasswords(other)).toHaveLength(1)
  })

  it('consumes an email token once, for its purpose, before it expires', async () => {
    const { accounts } = ctx.storage
    const did = uniqueDid()
    await accounts.create(accountRow(did))
    await accounts.createEmailToken({ did, purpose: 'reset', token: `t-${did}`, expiresAt: inAMinute() })
    const results = await Promise.all(
      Array.from({ length: 8 }, () => accounts.consumeEmailToken('reset', `t-${did}`)),
    )
    expect(results.filter((r) => r === did)).toHaveLength(1)
    expect(results.filter((r) => r === null)).toHaveLength(7)

    await accounts.createEmailToken({ did, purpose: 'confirm', token: `c-${did}`, expiresAt: inAMinute() })
    expect(await accounts.consumeEmailToken('delete', `c-${did}`)).toBeNull()
    expect(await accounts.consumeEmailToken('confirm', `c-${did}`)).toBe(did)

    await accounts.createEmailToken({
      did,
      purpose: 'reset',
      token: `old-${did}`,
      expiresAt: new Date(Date.now() - 1),
    })
    expect(await accounts.consumeEmailToken('reset', `old-${did}`)).toBeNull()
  })
}
