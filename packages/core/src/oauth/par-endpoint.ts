/** Pushed authorization requests (RFC 9126), the only way in: the request is validated and stored here. */
import { matchRedirectUri } from './client-metadata.js'
import { jsonResponse, type OAuthContext, readForm } from './context.js'
import { InvalidScopeError, OAuthInvalidRequestError, UnauthorizedClientError } from './errors.js'
import { parseScope, splitScope } from './scopes.js'
import type { AuthorizationParameters } from './store.js'
import { randomId } from './tokens.js'

export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:'
const PKCE_CHALLENGE_RE = /^[A-Za-z0-9_-]{43}$/
const PROMPTS = new Set(['none', 'login', 'consent', 'create', 'select_account'])

/** The request id inside a `request_uri`, or null when it is not one of ours. */
export function requestIdFromUri(uri: string | null): string | null {
  if (!uri?.startsWith(`${REQUEST_URI_PREFIX}req-`)) return null
  const id = uri.slice(REQUEST_URI_PREFIX.length + 4)
  return /^[A-Za-z0-9_-]{16,64}$/.test(id) ? id : null
}

/** POST /oauth/par */
export async function handlePar(ctx: OAuthContext, request: Request): Promise<Response> {
  const proof = await ctx.dpop.verify({
    proof: request.headers.get('dpop'),
    method: request.method,
    url: ctx.endpointUrl('par'),
  })
  const form = await readForm(request)
  const client = await ctx.clients.resolve(form.get('client_id'))
  const clientAuth = await ctx.clientAuth.authenticate(client, form)
  const { metadata } = client

  for (const p of ['request', 'request_uri']) {
    if (form.has(p)) throw new OAuthInvalidRequestError(`"${p}" is not supported in a pushed request`)
  }
  if (form.get('response_type') !== 'code') {
    throw new UnauthorizedClientError('response_type must be "code"')
  }
  const challenge = form.get('code_challenge')
  const method = form.get('code_challenge_method')
  if (!challenge) throw new OAuthInvalidRequestError('PKCE code_challenge is required')
  if (method !== 'S256') {
    throw new OAuthInvalidRequestError('code_challenge_method must be S256 ("plain" is not allowed)')
  }
  if (!PKCE_CHALLENGE_RE.test(challenge)) throw new OAuthInvalidRequestError('Malformed code_challenge')
  const dpopJkt = form.get('dpop_jkt')
  if (dpopJkt !== null && dpopJkt !== proof.jkt) {
    throw new OAuthInvalidRequestError('dpop_jkt does not match the DPoP proof key')
  }
  const state = form.get('state')
  if (!state) throw new OAuthInvalidRequestError('state is required')
  if (state.length > 1024) throw new OAuthInvalidRequestError('state is too long')

  let redirectUri = form.get('redirect_uri')
  if (redirectUri === null) {
    // RFC 6749 §3.1.2.3: may be omitted when the client has exactly one.
    if (metadata.redirect_uris.length !== 1) throw new OAuthInvalidRequestError('redirect_uri is required')
    redirectUri = metadata.redirect_uris[0]!
  } else if (!matchRedirectUri(metadata, redirectUri)) {
    throw new OAuthInvalidRequestError('redirect_uri is not registered in the client metadata')
  }

  const requested = splitScope(form.get('scope') ?? metadata.scope)
  if (!requested.includes('atproto')) throw new InvalidScopeError('The "atproto" scope is required')
  const declared = new Set(splitScope(metadata.scope))
  for (const s of requested) {
    if (!parseScope(s)) throw new InvalidScopeError(`Invalid scope "${s}"`)
    if (!declared.has(s)) throw new InvalidScopeError(`Scope "${s}" is not declared in the client metadata`)
  }

  const responseMode = form.get('response_mode') ?? 'query'
  if (responseMode !== 'query' && responseMode !== 'fragment') {
    throw new OAuthInvalidRequestError('response_mode must be "query" or "fragment"')
  }
  const prompt = form.get('prompt') ?? undefined
  if (prompt !== undefined && !PROMPTS.has(prompt))
    throw new OAuthInvalidRequestError('Unsupported prompt value')
  const loginHint = form.get('login_hint') ?? undefined
  if (loginHint !== undefined && loginHint.length > 256)
    throw new OAuthInvalidRequestError('login_hint is too long')

  // PKCE challenges must not be reused across sessions (spec: at least 24 h).
  if (!(await ctx.store.unique('code-challenge', challenge, 24 * 3600_000))) {
    throw new OAuthInvalidRequestError('code_challenge was already used')
  }

  const parameters: AuthorizationParameters = {
    client_id: client.id,
    redirect_uri: redirectUri,
    response_type: 'code',
    response_mode: responseMode,
    scope: requested.join(' '),
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    login_hint: loginHint,
    prompt: prompt as AuthorizationParameters['prompt'],
    ui_locales: form.get('ui_locales') ?? undefined,
  }
  const id = randomId(24)
  const now = Date.now()
  await ctx.store.createRequest({
    id,
    clientId: client.id,
    clientAuth,
    parameters,
    dpopJkt: proof.jkt,
    createdAt: now,
    expiresAt: now + ctx.lifetimes.par * 1000,
  })
  return jsonResponse(
    201,
    { request_uri: `${REQUEST_URI_PREFIX}req-${id}`, expires_in: ctx.lifetimes.par },
    { 'DPoP-Nonce': ctx.nonces.current() },
  )
}
