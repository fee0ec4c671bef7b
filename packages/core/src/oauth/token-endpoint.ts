/** Token endpoint (authorization_code with PKCE, refresh_token with rotation) and revocation (RFC 7009). */
import { createHash, timingSafeEqual } from 'node:crypto'
import { type ClientAuth, sameClientAuth } from './client-auth.js'
import type { ResolvedClient } from './client-metadata.js'
import { jsonResponse, type OAuthContext, readForm } from './context.js'
import {
  InvalidDpopProofError,
  InvalidGrantError,
  InvalidScopeError,
  OAuthInvalidRequestError,
  UnauthorizedClientError,
  UnsupportedGrantTypeError,
} from './errors.js'
import { splitScope } from './scopes.js'
import type { OAuthSessionRecord } from './store.js'
import { hashToken, newRefreshToken, REFRESH_TOKEN_PREFIX, randomId } from './tokens.js'

const VERIFIER_RE = /^[A-Za-z0-9._~-]{43,128}$/

function pkceMatches(verifier: string, challenge: string): boolean {
  const computed = Buffer.from(createHash('sha256').update(verifier).digest('base64url'))
  const expected = Buffer.from(challenge)
  return computed.length === expected.length && timingSafeEqual(computed, expected)
}

/** POST /oauth/token */
export async function handleToken(ctx: OAuthContext, request: Request): Promise<Response> {
  const proof = await ctx.dpop.verify({
    proof: request.headers.get('dpop'),
    method: request.method,
    url: ctx.endpointUrl('token'),
  })
  const form = await readForm(request)
  const client = await ctx.clients.resolve(form.get('client_id'))
  const clientAuth = await ctx.clientAuth.authenticate(client, form)
  const grantType = form.get('grant_type')
  if (grantType !== 'authorization_code' && grantType !== 'refresh_token') {
    throw new UnsupportedGrantTypeError(`Unsupported grant_type ${grantType ?? '(missing)'}`)
  }
  if (!client.metadata.grant_types.includes(grantType)) {
    throw new UnauthorizedClientError(`This client may not use the ${grantType} grant`)
  }
  const body =
    grantType === 'authorization_code'
      ? await exchangeCode(ctx, form, client, clientAuth, proof.jkt)
      : await refresh(ctx, form, client, clientAuth, proof.jkt)
  return jsonResponse(200, body, { 'DPoP-Nonce': ctx.nonces.current() })
}

async function exchangeCode(
  ctx: OAuthContext,
  form: URLSearchParams,
  client: ResolvedClient,
  clientAuth: ClientAuth,
  jkt: string,
) {
  const code = form.get('code')
  if (!code) throw new OAuthInvalidRequestError('code is required')
  // Consume first: a code is single use whatever happens next (no verifier guessing on one code).
  const consumed = await ctx.store.consumeCode(code)
  if (!consumed) throw new InvalidGrantError('Invalid or expired authorization code')
  const { grant, reused } = consumed
  if (reused) {
    // RFC 9700 §4.2.4 / oauth.md: revoke whatever the first use issued.
    await ctx.store.revokeSessionsByCode(code)
    throw new InvalidGrantError('Authorization code already used; its tokens have been revoked')
  }
  if (grant.clientId !== client.id) throw new InvalidGrantError('Code was issued to another client')
  if (!sameClientAuth(grant.clientAuth, clientAuth)) {
    throw new InvalidGrantError('Client authentication differs from the authorization request')
  }
  if (form.get('redirect_uri') !== grant.redirectUri) throw new InvalidGrantError('redirect_uri mismatch')
  const verifier = form.get('code_verifier')
  if (!verifier) throw new InvalidGrantError('PKCE code_verifier is required')
  if (!VERIFIER_RE.test(verifier) || !pkceMatches(verifier, grant.codeChallenge)) {
    throw new InvalidGrantError('PKCE verification failed')
  }
  if (grant.dpopJkt !== jkt)
    throw new InvalidDpopProofError('DPoP key differs from the authorization request')
  const account = await ctx.accounts.getAccount(grant.sub)
  if (!account) throw new InvalidGrantError('Account not available')

  const now = Date.now()
  const confidential = clientAuth.method === 'private_key_jwt'
  const l = ctx.lifetimes
  const refreshTtl = (confidential ? l.confidentialRefresh : l.publicSession) * 1000
  const sessionTtl = (confidential ? l.confidentialSession : l.publicSession) * 1000
  const refreshToken = newRefreshToken()
  const session: OAuthSessionRecord = {
    id: randomId(),
    sub: grant.sub,
    clientId: client.id,
    clientAuth,
    scope: grant.scope,
    dpopJkt: jkt,
    code,
    refreshTokenHash: hashToken(refreshToken),
    refreshExpiresAt: Math.min(now + refreshTtl, now + sessionTtl),
    createdAt: now,
    expiresAt: now + sessionTtl,
  }
  await ctx.store.createSession(session)
  return tokenResponse(ctx, session, grant.scope, refreshToken, client)
}

async function refresh(
  ctx: OAuthContext,
  form: URLSearchParams,
  client: ResolvedClient,
  clientAuth: ClientAuth,
  jkt: string,
) {
  const token = form.get('refresh_token')
  if (!token) throw new OAuthInvalidRequestError('refresh_token is required')
  if (!token.startsWith(REFRESH_TOKEN_PREFIX)) throw new InvalidGrantError('Invalid refresh token')
  const hash = hashToken(token)
  const found = await ctx.store.findSessionByRefreshToken(hash)
  if (!found) throw new InvalidGrantError('Invalid refresh token')
  const { session, current } = found
  const revoke = async (why: string): Promise<never> => {
    await ctx.store.revokeSession(session.id)
    throw new InvalidGrantError(why)
  }
  if (session.revokedAt !== undefined) throw new InvalidGrantError('Session revoked')
  // A rotated-away token came back: either client or attacker holds a stolen copy. End the family.
  if (!current) await revoke('Refresh token replayed; the session has been revoked')
  if (session.clientId !== client.id) await revoke('Refresh token was issued to another client')
  if (!sameClientAuth(session.clientAuth, clientAuth)) {
    await revoke('Client authentication key changed; the session has been revoked')
  }
  if (session.dpopJkt !== jkt) throw new InvalidDpopProofError('DPoP key differs from the session key')
  const now = Date.now()
  if (session.expiresAt <= now || session.refreshExpiresAt <= now)
    throw new InvalidGrantError('Session expired')
  const granted = new Set(splitScope(session.scope))
  const asked = form.get('scope')
  let scope = session.scope
  if (asked !== null) {
    const requested = splitScope(asked)
    for (const s of requested) {
      if (!granted.has(s)) throw new InvalidScopeError(`Scope "${s}" exceeds the original grant`)
    }
    if (!requested.includes('atproto')) throw new InvalidScopeError('The "atproto" scope is required')
    scope = requested.join(' ')
  }
  if (!(await ctx.accounts.getAccount(session.sub))) await revoke('Account not available')

  const confidential = clientAuth.method === 'private_key_jwt'
  const refreshTtl = (confidential ? ctx.lifetimes.confidentialRefresh : ctx.lifetimes.publicSession) * 1000
  const next = newRefreshToken()
  const refreshExpiresAt = Math.min(now + refreshTtl, session.expiresAt)
  if (!(await ctx.store.rotateRefreshToken(session.id, hash, hashToken(next), refreshExpiresAt))) {
    // Lost a race with another refresh of the same token: that is reuse too.
    await revoke('Refresh token already used; the session has been revoked')
  }
  return tokenResponse(ctx, session, scope, next, client)
}

async function tokenResponse(
  ctx: OAuthContext,
  session: OAuthSessionRecord,
  scope: string,
  refreshToken: string,
  client: ResolvedClient,
) {
  const now = Math.floor(Date.now() / 1000)
  const accessToken = await ctx.signer.sign({
    iss: ctx.issuer,
    aud: ctx.audience,
    sub: session.sub,
    jti: randomId(),
    iat: now,
    exp: now + ctx.lifetimes.accessToken,
    scope,
    client_id: session.clientId,
    sid: session.id,
    cnf: { jkt: session.dpopJkt },
  })
  return {
    access_token: accessToken,
    token_type: 'DPoP',
    expires_in: ctx.lifetimes.accessToken,
    ...(client.metadata.grant_types.includes('refresh_token') ? { refresh_token: refreshToken } : {}),
    scope,
    sub: session.sub,
  }
}

/** POST /oauth/revoke: always 200 for tokens we do not know (RFC 7009 §2.2). */
export async function handleRevoke(ctx: OAuthContext, request: Request): Promise<Response> {
  const headers = { 'DPoP-Nonce': ctx.nonces.current() }
  // DPoP is optional here (the token itself is the secret), but a proof that is sent must be valid.
  if (request.headers.has('dpop')) {
    await ctx.dpop.verify({
      proof: request.headers.get('dpop'),
      method: request.method,
      url: ctx.endpointUrl('revoke'),
    })
  }
  const form = await readForm(request)
  const client = await ctx.clients.resolve(form.get('client_id'))
  await ctx.clientAuth.authenticate(client, form)
  const token = form.get('token')
  if (!token) throw new OAuthInvalidRequestError('token is required')
  let sessionId: string | undefined
  if (token.startsWith(REFRESH_TOKEN_PREFIX)) {
    const found = await ctx.store.findSessionByRefreshToken(hashToken(token))
    if (found?.session.clientId === client.id) sessionId = found.session.id
  } else {
    const claims = await ctx.signer
      .verify(token, { issuer: ctx.issuer, audience: ctx.audience, ignoreExpiry: true })
      .catch(() => null)
    if (claims?.client_id === client.id) sessionId = claims.sid
  }
  if (sessionId) await ctx.store.revokeSession(sessionId)
  return new Response(null, { status: 200, headers: { ...headers, 'cache-control': 'no-store' } })
}
