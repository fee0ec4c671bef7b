import { generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto'
import { Secp256k1Keypair, verifySignature } from '@atproto/crypto'
import { createServiceJwt } from '@atproto/xrpc-server'
import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { adminBasicVerifier, authByScheme, serviceJwtVerifier, sessionJwtVerifier } from './auth.js'
import type { RequestContext } from './types.js'
import { AuthRequiredError, type XRPCError } from './xrpc-error.js'

const ctx = (authorization?: string, nsid = 'io.test.method'): RequestContext => ({
  nsid,
  params: {},
  connection: {},
  request: new Request(`http://localhost/xrpc/${nsid}`, { headers: authorization ? { authorization } : {} }),
  signal: new AbortController().signal,
})

async function rejects(p: Promise<unknown> | (() => unknown), error: string) {
  try {
    await (typeof p === 'function' ? p() : p)
  } catch (err) {
    expect(err).toBeInstanceOf(AuthRequiredError)
    expect((err as XRPCError).error).toBe(error)
    expect((err as XRPCError).status).toBe(401)
    return
  }
  throw new Error('expected a rejection')
}

describe('session JWT (HS256)', () => {
  const secret = 'super-secret'
  const verifier = sessionJwtVerifier({
    secret,
    scopes: ['com.atproto.access'],
    audience: 'did:web:pds.example',
  })
  const token = (claims: Record<string, unknown>, typ = 'at+jwt', exp = '1h') =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ })
      .setSubject('did:plc:alice')
      .setAudience('did:web:pds.example')
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode(secret))

  it('accepts a valid access token', async () => {
    const t = await token({ scope: 'com.atproto.access' })
    expect(await verifier(ctx(`Bearer ${t}`))).toMatchObject({
      type: 'session',
      did: 'did:plc:alice',
      scope: 'com.atproto.access',
    })
  })
  it('remembers a verified token only until it expires', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2
    const t = await token({ scope: 'com.atproto.access' }, 'at+jwt', exp as unknown as string)
    expect((await verifier(ctx(`Bearer ${t}`))).did).toBe('did:plc:alice')
    expect((await verifier(ctx(`Bearer ${t}`))).did).toBe('did:plc:alice') // from the cache
    // The same string with one signature byte changed is a different, unverified token.
    const forged = `${t.slice(0, -2)}${t.at(-2) === 'A' ? 'B' : 'A'}${t.at(-1)}`
    await rejects(verifier(ctx(`Bearer ${forged}`)), 'InvalidToken')
    await new Promise((r) => setTimeout(r, (exp - Date.now() / 1000) * 1000 + 50))
    await rejects(verifier(ctx(`Bearer ${t}`)), 'ExpiredToken')
  })
  it('rejects missing, expired, wrong typ, wrong scope, wrong secret', async () => {
    await rejects(verifier(ctx()), 'AuthMissing')
    await rejects(
      verifier(ctx(`Bearer ${await token({ scope: 'com.atproto.access' }, 'at+jwt', '-1m')}`)),
      'ExpiredToken',
    )
    await rejects(
      verifier(ctx(`Bearer ${await token({ scope: 'com.atproto.access' }, 'refresh+jwt')}`)),
      'InvalidToken',
    )
    await rejects(verifier(ctx(`Bearer ${await token({ scope: 'com.atproto.refresh' })}`)), 'InvalidToken')
    const other = await new SignJWT({ scope: 'com.atproto.access' })
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .setSubject('did:plc:alice')
      .setAudience('did:web:pds.example')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('other'))
    await rejects(verifier(ctx(`Bearer ${other}`)), 'InvalidToken')
    await rejects(verifier(ctx('Bearer not.a.jwt')), 'InvalidToken')
  })
})

describe('service JWT', () => {
  const aud = 'did:web:appview.example#bsky_appview'
  it('verifies a token minted by the reference implementation (ES256K)', async () => {
    const keypair = await Secp256k1Keypair.create()
    const iss = 'did:plc:alice'
    const verifier = serviceJwtVerifier({
      audience: aud,
      resolveSigningKey: async (did) => {
        expect(did).toBe(iss)
        return keypair.did()
      },
      verifySignature: (didKey, msg, sig, alg) =>
        verifySignature(didKey, msg, sig, { jwtAlg: alg, allowMalleableSig: true }),
    })
    const jwt = await createServiceJwt({ iss, aud, keypair, lxm: 'io.test.method' })
    expect(await verifier(ctx(`Bearer ${jwt}`))).toMatchObject({
      type: 'service',
      iss,
      aud,
      lxm: 'io.test.method',
    })
    await rejects(verifier(ctx(`Bearer ${jwt}`, 'io.test.other')), 'BadJwtLexiconMethod')
    const noLxm = await createServiceJwt({ iss, aud, keypair, lxm: null })
    await rejects(verifier(ctx(`Bearer ${noLxm}`)), 'BadJwtLexiconMethod')
    const otherAud = await createServiceJwt({
      iss,
      aud: 'did:web:evil.example',
      keypair,
      lxm: 'io.test.method',
    })
    await rejects(verifier(ctx(`Bearer ${otherAud}`)), 'BadJwtAudience')
    const expired = await createServiceJwt({
      iss,
      aud,
      keypair,
      lxm: 'io.test.method',
      exp: Math.floor(Date.now() / 1000) - 10,
    })
    await rejects(verifier(ctx(`Bearer ${expired}`)), 'JwtExpired')
    const stranger = await Secp256k1Keypair.create()
    const forged = await createServiceJwt({ iss, aud, keypair: stranger, lxm: 'io.test.method' })
    await rejects(verifier(ctx(`Bearer ${forged}`)), 'BadJwtSignature')
  })
  it('verifies ES256 with a node:crypto key, retries with a fresh key, and blocks replays', async () => {
    const old = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const current = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const refreshes: boolean[] = []
    const seen = new Set<string>()
    const verifier = serviceJwtVerifier<KeyObject>({
      audience: aud,
      resolveSigningKey: async (_did, { forceRefresh }) => {
        refreshes.push(forceRefresh)
        return forceRefresh ? current.publicKey : old.publicKey
      },
      verifySignature: (key, msg, sig) => verify('sha256', msg, { key, dsaEncoding: 'ieee-p1363' }, sig),
      checkReplay: (jti) => !seen.has(jti) && !!seen.add(jti),
    })
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
    const signed = `${b64({ alg: 'ES256', typ: 'JWT' })}.${b64({ iss: 'did:plc:bob', aud, exp: Math.floor(Date.now() / 1000) + 60, lxm: 'io.test.method', jti: 'n1' })}`
    const sig = sign('sha256', Buffer.from(signed), { key: current.privateKey, dsaEncoding: 'ieee-p1363' })
    const jwt = `${signed}.${sig.toString('base64url')}`
    expect(await verifier(ctx(`Bearer ${jwt}`))).toMatchObject({ iss: 'did:plc:bob', jti: 'n1' })
    expect(refreshes).toEqual([false, true])
    await rejects(verifier(ctx(`Bearer ${jwt}`)), 'BadJwt')
    const typed = `${b64({ alg: 'ES256', typ: 'at+jwt' })}.${signed.split('.')[1]}.${sig.toString('base64url')}`
    await rejects(verifier(ctx(`Bearer ${typed}`)), 'BadJwtType')
    const hs = `${b64({ alg: 'HS256' })}.${signed.split('.')[1]}.${sig.toString('base64url')}`
    await rejects(verifier(ctx(`Bearer ${hs}`)), 'BadJwtAlgorithm')
    await rejects(verifier(ctx('Bearer a.b.c')), 'BadJwt')
  })
})

describe('admin basic auth and scheme dispatch', () => {
  const admin = adminBasicVerifier({ password: 'secret-token' })
  it('checks user admin and the token', async () => {
    // The example from xrpc.md.
    expect(admin(ctx('Basic YWRtaW46c2VjcmV0LXRva2Vu'))).toEqual({ type: 'admin' })
    await rejects(() => admin(ctx(`Basic ${Buffer.from('admin:wrong').toString('base64')}`)), 'InvalidToken')
    await rejects(() => admin(ctx()), 'AuthMissing')
    try {
      admin(ctx())
    } catch (err) {
      expect((err as XRPCError).headers['WWW-Authenticate']).toBe('Basic realm="admin"')
    }
  })
  it('dispatches by scheme and supports optional auth', async () => {
    const verify = authByScheme({ basic: admin, dpop: () => ({ type: 'oauth' as const }), optional: true })
    expect(await verify(ctx())).toBeNull()
    expect(await verify(ctx('DPoP abc'))).toEqual({ type: 'oauth' })
    expect(await verify(ctx('Basic YWRtaW46c2VjcmV0LXRva2Vu'))).toEqual({ type: 'admin' })
    await rejects(verify(ctx('Bearer x')), 'InvalidToken')
  })
})
