import type { OAuthClientSessionRecord, OAuthClientStateRecord } from '@next-atproto/core'
import { expect, it } from 'vitest'
import { type SuiteContext, sleep, uniqueDid } from './fixtures.js'

const times = <T>(n: number, fn: (i: number) => T | Promise<T>) =>
  Promise.all(Array.from({ length: n }, (_, i) => fn(i)))

const stateRecord = (did: string): OAuthClientStateRecord => ({
  issuer: 'https://pds.example',
  did,
  pdsUrl: 'https://pds.example',
  codeVerifier: 'verifier',
  dpopKey: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' },
  redirectUri: 'https://app.example/callback',
  scope: 'atproto',
  authMethod: { method: 'private_key_jwt', kid: 'k1' },
  appState: '/after',
  createdAt: Date.now(),
})

const session = (did: string, createdAt = Date.now()): OAuthClientSessionRecord => ({
  id: `s-${uniqueDid().slice(8)}`,
  did,
  issuer: 'https://pds.example',
  pdsUrl: 'https://pds.example',
  dpopKey: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' },
  authMethod: { method: 'none' },
  tokens: {
    accessToken: 'at-0',
    tokenType: 'DPoP',
    refreshToken: 'rt-0',
    scope: 'atproto',
    sub: did,
    expiresAt: 1,
  },
  version: 0,
  createdAt,
  updatedAt: createdAt,
})

/** The OAuth client store: single-use states, sessions, the refresh lease and the guarded token swap. */
export function oauthClientSuite(ctx: SuiteContext): void {
  // Optional part: adapters without it (a user's own) skip these checks.
  const store = () => ctx.storage.oauthClient!
  const has = () => ctx.storage.oauthClient !== undefined

  it('hands a pending login out exactly once, and never after it expired', async () => {
    if (!has()) return
    const did = uniqueDid()
    const key = `st-${did.slice(8)}`
    await store().putState(key, stateRecord(did), Date.now() + 60_000)
    const taken = await times(6, () => store().takeState(key))
    const got = taken.filter((t) => t !== null)
    expect(got).toHaveLength(1)
    expect(got[0]).toEqual({ ...stateRecord(did), createdAt: got[0]!.createdAt })
    expect(await store().takeState(key)).toBeNull()
    await store().putState(`${key}-old`, stateRecord(did), Date.now() + 30)
    await sleep(60)
    expect(await store().takeState(`${key}-old`)).toBeNull()
  })

  it('stores sessions and lists an account’s newest first', async () => {
    if (!has()) return
    const did = uniqueDid()
    const a = session(did, Date.now() - 1000)
    const b = session(did)
    await store().createSession(a)
    await store().createSession(b)
    expect(await store().getSession(a.id)).toEqual(a)
    expect((await store().listSessions(did)).map((s) => s.id)).toEqual([b.id, a.id])
    await store().deleteSession(a.id)
    expect(await store().getSession(a.id)).toBeNull()
    expect((await store().listSessions(did)).map((s) => s.id)).toEqual([b.id])
  })

  it('grants the refresh lease to exactly one of many concurrent callers', async () => {
    if (!has()) return
    const s = session(uniqueDid())
    await store().createSession(s)
    const now = Date.now()
    const wins = await times(10, (i) => store().acquireRefreshLock(s.id, `owner-${i}`, now + 60_000, now))
    expect(wins.filter(Boolean)).toHaveLength(1)
    const owner = `owner-${wins.indexOf(true)}`
    expect((await store().getSession(s.id))!.lock).toEqual({ owner, expiresAt: now + 60_000 })
    // Only the holder swaps tokens; the swap bumps the version and frees the lease.
    const next = { ...s.tokens, accessToken: 'at-1', refreshToken: 'rt-1' }
    expect(await store().saveRefreshedTokens(s.id, 'intruder', next)).toBe(false)
    const swaps = await times(3, () => store().saveRefreshedTokens(s.id, owner, next))
    expect(swaps.filter(Boolean)).toHaveLength(1)
    const after = (await store().getSession(s.id))!
    expect(after.tokens).toEqual(next)
    expect(after.version).toBe(1)
    expect(after.lock).toBeUndefined()
    expect(await store().acquireRefreshLock('no-such-session', 'x', now + 1000, now)).toBe(false)
  })

  it('lets an expired lease be taken over, after which the old holder cannot save', async () => {
    if (!has()) return
    const s = session(uniqueDid())
    await store().createSession(s)
    const t0 = Date.now()
    expect(await store().acquireRefreshLock(s.id, 'crashed', t0 + 50, t0)).toBe(true)
    expect(await store().acquireRefreshLock(s.id, 'early', t0 + 1000, t0 + 10)).toBe(false)
    expect(await store().acquireRefreshLock(s.id, 'late', t0 + 60_000, t0 + 100)).toBe(true)
    expect(await store().saveRefreshedTokens(s.id, 'crashed', { ...s.tokens, accessToken: 'stale' })).toBe(
      false,
    )
    await store().releaseRefreshLock(s.id, 'crashed') // not the holder: no effect
    expect((await store().getSession(s.id))!.lock?.owner).toBe('late')
    await store().releaseRefreshLock(s.id, 'late')
    expect((await store().getSession(s.id))!.lock).toBeUndefined()
    expect((await store().getSession(s.id))!.tokens.accessToken).toBe('at-0')
  })
}
