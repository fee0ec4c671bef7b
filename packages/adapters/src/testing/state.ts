import {
  type AnyPlcOperation,
  type CodeGrant,
  type OAuthSessionRecord,
  PlcConflictError,
} from '@next-atproto/core'
import { expect, it } from 'vitest'
import { type SuiteContext, sleep, uniqueDid } from './fixtures.js'

const times = <T>(n: number, fn: (i: number) => T | Promise<T>) =>
  Promise.all(Array.from({ length: n }, (_, i) => fn(i)))

const grant = (sub: string): CodeGrant => ({
  clientId: 'https://app.example/client-metadata.json',
  clientAuth: { method: 'none' },
  sub,
  scope: 'atproto',
  redirectUri: 'https://app.example/callback',
  codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  dpopJkt: 'jkt',
  requestId: 'req',
})

const plcOp = (n: number, prev: string | null) =>
  ({
    type: 'plc_operation',
    rotationKeys: ['did:key:zQ3shtest'],
    verificationMethods: {},
    alsoKnownAs: [`at://h${n}.test`],
    services: {},
    prev,
    sig: `sig${n}`,
  }) as unknown as AnyPlcOperation

/** Rate limits, and the optional OAuth, PLC, identity-cache, indexer and invite parts when present. */
export function stateSuite(ctx: SuiteContext): void {
  it('counts rate-limit hits atomically, per key, in fixed windows', async () => {
    const { rateLimits } = ctx.storage
    const key = `rl-${uniqueDid()}`
    const hits = await times(10, () => rateLimits.hit(key, 60_000))
    expect(hits.map((h) => h.count).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    expect(new Set(hits.map((h) => h.resetAt.getTime())).size).toBe(1)
    expect(hits[0]!.resetAt.getTime()).toBeGreaterThan(Date.now())
    expect((await rateLimits.hit(`other-${key}`, 60_000)).count).toBe(1)
    const short = `short-${key}`
    await rateLimits.hit(short, 40)
    await rateLimits.hit(short, 40)
    await sleep(60)
    expect((await rateLimits.hit(short, 40)).count).toBe(1) // a new window
  })

  it('OAuth: one winner for replay nonces, codes, requests and refresh rotations', async () => {
    const oauth = ctx.storage.oauth
    if (!oauth) return
    const sub = uniqueDid()
    const nonce = `jti-${sub}`
    expect((await times(8, () => oauth.unique('dpop', nonce, 60_000))).filter(Boolean)).toHaveLength(1)
    expect(await oauth.unique('client-assertion', nonce, 60_000)).toBe(true) // namespaces are separate

    const code = `code-${sub}`
    await oauth.createCode(code, grant(sub), Date.now() + 60_000)
    const uses = await times(8, () => oauth.consumeCode(code))
    expect(uses.filter((u) => u?.reused === false)).toHaveLength(1)
    expect(uses.filter((u) => u?.reused === true)).toHaveLength(7)
    expect(uses.find((u) => !u?.reused)?.grant).toMatchObject({ sub, scope: 'atproto' })
    expect(await oauth.consumeCode(`unknown-${sub}`)).toBeNull()

    const now = Date.now()
    const request = {
      id: `req-${sub}`,
      clientId: 'https://app.example/client-metadata.json',
      clientAuth: { method: 'none' as const },
      parameters: {
        client_id: 'https://app.example/client-metadata.json',
        redirect_uri: 'https://app.example/callback',
        response_type: 'code' as const,
        response_mode: 'query' as const,
        scope: 'atproto',
        state: 's',
        code_challenge: 'c',
        code_challenge_method: 'S256' as const,
      },
      dpopJkt: 'jkt',
      createdAt: now,
      expiresAt: now + 60_000,
    }
    await oauth.createRequest(request)
    await oauth.updateRequest(request.id, { sub })
    expect((await oauth.readRequest(request.id))?.sub).toBe(sub)
    const consumed = await times(6, () => oauth.consumeRequest(request.id))
    expect(consumed.filter((r) => r !== null)).toHaveLength(1)
    expect(await oauth.readRequest(request.id)).toBeNull()

    const session: OAuthSessionRecord = {
      id: `sess-${sub}`,
      sub,
      clientId: request.clientId,
      clientAuth: { method: 'none' },
      scope: 'atproto',
      dpopJkt: 'jkt',
      code,
      refreshTokenHash: `h0-${sub}`,
      refreshExpiresAt: now + 60_000,
      createdAt: now,
      expiresAt: now + 120_000,
    }
    await oauth.createSession(session)
    const rotated = await times(6, (i) =>
      oauth.rotateRefreshToken(session.id, `h0-${sub}`, `h${i + 1}-${sub}`, now + 90_000),
    )
    expect(rotated.filter(Boolean)).toHaveLength(1)
    expect(await oauth.findSessionByRefreshToken(`h0-${sub}`)).toMatchObject({ current: false })
    const winner = `h${rotated.indexOf(true) + 1}-${sub}`
    expect(await oauth.findSessionByRefreshToken(winner)).toMatchObject({
      current: true,
      session: { id: session.id },
    })
    expect((await oauth.listSessions(sub)).map((s) => s.id)).toEqual([session.id])
    await oauth.revokeSessionsByCode(code)
    expect(await oauth.rotateRefreshToken(session.id, winner, `late-${sub}`, now + 90_000)).toBe(false)
    expect(await oauth.listSessions(sub)).toEqual([])
  })

  it('PLC: appends per DID with a compare-and-swap on the last CID, exports in seq order', async () => {
    const plc = ctx.storage.plc
    if (!plc) return
    const did = `did:plc:${uniqueDid().slice(8)}`
    const first = await plc.appendOp(
      did,
      { operation: plcOp(1, null), cid: `c1-${did}`, createdAt: new Date() },
      {
        nullify: [],
        expectedLastCid: null,
      },
    )
    const racers = await Promise.allSettled(
      [2, 3, 4].map((n) =>
        plc.appendOp(
          did,
          { operation: plcOp(n, `c1-${did}`), cid: `c${n}-${did}`, createdAt: new Date() },
          {
            nullify: [],
            expectedLastCid: `c1-${did}`,
          },
        ),
      ),
    )
    expect(racers.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
    for (const r of racers) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(PlcConflictError)
    const log = await plc.getLog(did)
    expect(log.map((e) => e.cid)[0]).toBe(`c1-${did}`)
    expect(log).toHaveLength(2)
    expect(log[0]!.operation).toEqual(plcOp(1, null))
    const exported = await plc.export({ after: first.seq! - 1, count: 100 })
    const mine = exported.filter((e) => e.did === did)
    expect(mine.map((e) => e.cid)).toEqual(log.map((e) => e.cid))
    for (let i = 1; i < exported.length; i++) expect(exported[i]!.seq!).toBeGreaterThan(exported[i - 1]!.seq!)
  })

  it('identity cache: set, get with its time, delete', async () => {
    const cache = ctx.storage.identityCache
    if (!cache) return
    const key = `handle:${uniqueDid().slice(8)}.test`
    expect(await cache.get(key)).toBeNull()
    const before = Date.now()
    await cache.set(key, { did: 'did:plc:abc', nested: [1, 2] })
    const hit = await cache.get(key)
    expect(hit?.value).toEqual({ did: 'did:plc:abc', nested: [1, 2] })
    expect(hit!.updatedAt).toBeGreaterThanOrEqual(before - 1000)
    await cache.set(key, 'did:plc:def')
    expect((await cache.get(key))?.value).toBe('did:plc:def')
    await cache.delete?.(key)
    if (cache.delete) expect(await cache.get(key)).toBeNull()
  })

  it('indexer: cursors, upserted rows keeping first indexedAt, newest-first pages', async () => {
    const indexer = ctx.storage.indexer
    if (!indexer) return
    const did = uniqueDid()
    const name = `firehose-${did}`
    expect(await indexer.getCursor(name)).toBeNull()
    await indexer.setCursor(name, '41')
    await indexer.setCursor(name, '42')
    expect(await indexer.getCursor(name)).toBe('42')

    const collection = `app.test.c${did.slice(-6)}`
    const base = Date.now() - 10_000
    for (let i = 0; i < 5; i++) {
      await indexer.putRow({
        collection,
        uri: `at://${did}/${collection}/r${i}`,
        did,
        rkey: `r${i}`,
        cid: `cid${i}`,
        value: { text: `post ${i}` },
        indexedAt: new Date(base + (i < 2 ? 0 : i) * 1000), // r0 and r1 tie on time: uri breaks it
      })
    }
    await indexer.putRow({
      collection,
      uri: `at://${did}/${collection}/r0`,
      did,
      rkey: 'r0',
      cid: 'cid0b',
      value: { text: 'edited' },
    })
    const pages: string[] = []
    let cursor: string | undefined
    for (;;) {
      const page = await indexer.listRows(collection, { limit: 2, cursor, did })
      if (page.length === 0) break
      pages.push(...page.map((r) => r.uri.split('/').pop()!))
      const last = page.at(-1)!
      cursor = `${last.indexedAt.getTime()}::${last.uri}`
    }
    expect(pages).toEqual(['r4', 'r3', 'r2', 'r1', 'r0'])
    const edited = (await indexer.listRows(collection, { limit: 10 })).find((r) => r.uri.endsWith('/r0'))
    expect(edited).toMatchObject({ cid: 'cid0b', value: { text: 'edited' } })
    expect(edited!.indexedAt.getTime()).toBe(base)
    await indexer.deleteRow(`at://${did}/${collection}/r4`)
    expect(await indexer.listRows(collection, { limit: 10, did: uniqueDid() })).toEqual([])
    expect((await indexer.listRows(collection, { limit: 10 })).map((r) => r.uri.split('/').pop())).toEqual([
      'r3',
      'r2',
      'r1',
      'r0',
    ])
  })

  it('invite codes: uses are counted atomically; disabled codes refuse', async () => {
    const invites = ctx.storage.inviteCodes
    if (!invites) return
    const owner = uniqueDid()
    const [two, off] = [`two-${owner}`, `off-${owner}`]
    await invites.create([
      { code: two, availableUses: 2, forAccount: owner, createdBy: 'admin' },
      { code: off, availableUses: 5, forAccount: owner, createdBy: 'admin' },
    ])
    const wins = await times(6, () => invites.use(two, uniqueDid()))
    expect(wins.filter(Boolean)).toHaveLength(2)
    const row = await invites.get(two)
    expect(row).toMatchObject({ code: two, availableUses: 2, disabled: false, forAccount: owner })
    expect(row?.uses).toHaveLength(2)
    expect(row?.uses[0]?.usedAt).toBeInstanceOf(Date)
    expect(await invites.use(`unknown-${owner}`, owner)).toBe(false)
    await invites.disable({ accounts: [owner] })
    expect(await invites.use(off, uniqueDid())).toBe(false)
    expect((await invites.listForAccount(owner)).map((r) => r.code).sort()).toEqual([off, two].sort())
    expect((await invites.listForAccount(owner)).every((r) => r.disabled)).toBe(true)
    expect(await invites.get(`unknown-${owner}`)).toBeNull()
  })
}
