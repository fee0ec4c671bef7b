// The forum's session cookie (the managed-account hook of the OAuth server): signed, expiring, and its
// login form neither follows off-site return paths nor accepts cross-site posts.
import { describe, expect, it, vi } from 'vitest'
import { FORUM_SESSION_COOKIE, forumSessions } from '../lib/forum-session.js'

const DID = 'did:plc:forummemberaaaaaaaaaaaa'
const origin = 'http://forum.test'
const sessions = forumSessions({
  secret: 'k'.repeat(64),
  origin,
  checkPassword: async (id, pw) => (id === 'member.test' && pw === 'right password' ? DID : null),
})
const withCookie = (setCookie: string) =>
  new Request(`${origin}/oauth/authorize`, { headers: { cookie: setCookie.split(';')[0]! } })
const login = (fields: Record<string, string>, from = origin) =>
  sessions.fetch(
    new Request(`${origin}/forum/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: from },
      body: new URLSearchParams(fields),
    }),
  )

describe('forum session cookie', () => {
  it('names the member it was issued to, and nobody once tampered with or expired', () => {
    const cookie = sessions.cookieFor(DID)
    expect(cookie).toMatch(/HttpOnly; SameSite=Lax/)
    expect(sessions.currentUser(withCookie(cookie))).toBe(DID)
    const value = decodeURIComponent(cookie.split(';')[0]!.slice(FORUM_SESSION_COOKIE.length + 1))
    const [, exp, mac] = value.split('|')
    const forged = `${FORUM_SESSION_COOKIE}=${encodeURIComponent(`did:plc:someoneelseaaaaaaaaaaaaa|${exp}|${mac}`)}`
    expect(sessions.currentUser(withCookie(forged))).toBeNull()
    // Issued eight days ago: past its seven-day life, though correctly signed.
    vi.useFakeTimers({ now: Date.now() - 8 * 24 * 3600_000, toFake: ['Date'] })
    const old = sessions.cookieFor(DID)
    vi.useRealTimers()
    expect(sessions.currentUser(withCookie(old))).toBeNull()
    const otherKey = forumSessions({ secret: 'z'.repeat(64), origin, checkPassword: async () => null })
    expect(otherKey.currentUser(withCookie(cookie))).toBeNull()
    expect(sessions.currentUser(new Request(origin))).toBeNull()
  })

  it('signs in with the right password and returns to same-site paths only', async () => {
    const wrong = await login({ identifier: 'member.test', password: 'nope', return_to: '/x' })
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('set-cookie')).toBeNull()
    const ok = await login({
      identifier: 'member.test',
      password: 'right password',
      return_to: '/oauth/authorize?a=1',
    })
    expect(ok.status).toBe(303)
    expect(ok.headers.get('location')).toBe('/oauth/authorize?a=1')
    expect(sessions.currentUser(withCookie(ok.headers.get('set-cookie')!))).toBe(DID)
    for (const evil of ['//evil.example/', 'https://evil.example/', '/\\evil.example']) {
      const r = await login({ identifier: 'member.test', password: 'right password', return_to: evil })
      expect(r.headers.get('location')).toBe('/')
    }
  })

  it('shows the account check refusal (rate limit) on the form, with its status', async () => {
    const limited = forumSessions({
      secret: 'k'.repeat(64),
      origin,
      checkPassword: async (_id, _pw, _request, connection) => {
        expect(connection.remoteAddress).toBe('192.0.2.1')
        throw Object.assign(new Error('limited'), { userMessage: 'Too many sign-in attempts', status: 429 })
      },
    })
    const res = await limited.fetch(
      new Request(`${origin}/forum/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ identifier: 'member.test', password: 'x' }),
      }),
      { remoteAddress: '192.0.2.1' },
    )
    expect(res.status).toBe(429)
    expect(await res.text()).toContain('Too many sign-in attempts')
    expect(res.headers.get('set-cookie')).toBeNull()
  })

  it('refuses cross-site login posts', async () => {
    const r = await login({ identifier: 'member.test', password: 'right password' }, 'https://evil.example')
    expect(r.status).toBe(403)
    expect(r.headers.get('set-cookie')).toBeNull()
  })
})
