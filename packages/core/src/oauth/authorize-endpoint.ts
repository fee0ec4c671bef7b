/**
 * Authorization endpoint: GET renders the sign-in / consent page for a pushed request; POST handles
 * the page's forms (CSRF-protected) and finally redirects to the client with `code`, `state`, `iss`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { ConnectionInfo } from '../xrpc/types.js'
import { accountMatchesHint, type OAuthAccount } from './accounts.js'
import { type AuthorizePageView, describeScope } from './authorize-page.js'
import type { OAuthContext } from './context.js'
import { requestIdFromUri } from './par-endpoint.js'
import { splitScope } from './scopes.js'
import type { AuthorizationRequestRecord } from './store.js'
import { randomId } from './tokens.js'

const DEVICE_COOKIE = 'atproto-oauth-device'
/** Time a user has to finish signing in once the page is open. */
const INTERACTION_MS = 15 * 60_000

function readCookie(request: Request, name: string): string | undefined {
  for (const part of (request.headers.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

function csrfToken(ctx: OAuthContext, deviceId: string, requestId: string): string {
  return createHmac('sha256', ctx.secret).update(`csrf\0${deviceId}\0${requestId}`).digest('base64url')
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

interface Interaction {
  ctx: OAuthContext
  request: Request
  rec: AuthorizationRequestRecord
  deviceId: string
  setCookie?: string
}

async function render(
  it: Interaction,
  step: AuthorizePageView['step'],
  extra: { account?: OAuthAccount; error?: string; status?: number } = {},
): Promise<Response> {
  const { ctx, rec, deviceId } = it
  const client = await ctx.clients.resolve(rec.clientId).catch(() => undefined)
  const view: AuthorizePageView = {
    step,
    actionUrl: ctx.endpointUrl('authorize'),
    hidden: {
      request_uri: `urn:ietf:params:oauth:request_uri:req-${rec.id}`,
      client_id: rec.clientId,
      csrf_token: csrfToken(ctx, deviceId, rec.id),
    },
    client: {
      id: rec.clientId,
      trusted: client?.trusted ?? false,
      ...(client?.trusted
        ? {
            name: client.metadata.client_name,
            uri: client.metadata.client_uri,
            logoUri: client.metadata.logo_uri,
          }
        : {}),
    },
    scopes: splitScope(rec.parameters.scope).map((scope) => ({ scope, description: describeScope(scope) })),
    account: extra.account,
    loginHint: rec.parameters.login_hint,
    error: extra.error,
    canSignUp: ctx.accounts.createAccount !== undefined,
  }
  return page(ctx, it.request, view, extra.status ?? 200, it.setCookie, rec.parameters.redirect_uri)
}

async function page(
  ctx: OAuthContext,
  request: Request,
  view: AuthorizePageView,
  status: number,
  setCookie?: string,
  redirectUri?: string,
): Promise<Response> {
  const out = await ctx.renderAuthorizePage(view, request)
  const headers = new Headers(out instanceof Response ? out.headers : undefined)
  if (!(out instanceof Response)) headers.set('content-type', 'text/html; charset=utf-8')
  headers.set('cache-control', 'no-store')
  headers.set('x-frame-options', 'DENY')
  // same-origin, not no-referrer: under no-referrer browsers send `Origin: null` on the page's own form
  // POSTs, which the cross-site check must refuse. Cross-origin navigations (the client) get nothing.
  headers.set('referrer-policy', 'same-origin')
  // form-action also governs the redirect that follows the form POST in some browsers.
  const target = redirectUri && URL.canParse(redirectUri) ? new URL(redirectUri) : undefined
  const formTarget = target ? (target.origin !== 'null' ? target.origin : target.protocol) : ''
  headers.set(
    'content-security-policy',
    `default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'none'; form-action 'self' ${formTarget}`.trim(),
  )
  if (setCookie) headers.append('set-cookie', setCookie)
  if (out instanceof Response) return new Response(out.body, { status: out.status, headers })
  return new Response(out, { status, headers })
}

/**
 * An error the user sees on our page: without a valid request there is no redirect_uri we may trust, so
 * the OAuth error code goes on the page (RFC 6749 §4.1.2.1).
 */
function errorPage(ctx: OAuthContext, request: Request, error: string, status = 400): Promise<Response> {
  const view: AuthorizePageView = {
    step: 'error',
    actionUrl: ctx.endpointUrl('authorize'),
    hidden: {},
    scopes: [],
    error,
    errorCode: status === 403 ? 'access_denied' : 'invalid_request',
    canSignUp: false,
  }
  return page(ctx, request, view, status)
}

/** Redirect to the client with response parameters (query or fragment), always with `iss` (RFC 9207). */
function redirectToClient(
  ctx: OAuthContext,
  rec: AuthorizationRequestRecord,
  params: Record<string, string>,
) {
  const url = new URL(rec.parameters.redirect_uri)
  const out = new URLSearchParams({ ...params, state: rec.parameters.state, iss: ctx.issuer })
  if (rec.parameters.response_mode === 'fragment') url.hash = out.toString()
  else for (const [k, v] of out) url.searchParams.set(k, v)
  return new Response(null, { status: 303, headers: { location: url.href, 'cache-control': 'no-store' } })
}

/** The account acting on this request: explicit sign-in, the host app's user, or a remembered device. */
async function currentAccount(it: Interaction): Promise<OAuthAccount | null> {
  const { ctx, rec, request, deviceId } = it
  const hint = rec.parameters.login_hint
  const candidates: Array<() => Promise<OAuthAccount | null>> = [
    async () => (rec.sub ? ctx.accounts.getAccount(rec.sub) : null),
  ]
  // prompt=login asks for a fresh sign-in: existing sessions do not count.
  if (rec.parameters.prompt !== 'login') {
    if (ctx.accounts.currentUser) candidates.push(() => ctx.accounts.currentUser!(request))
    candidates.push(async () => {
      const device = await ctx.store.getDeviceSession(deviceId)
      return device ? ctx.accounts.getAccount(device.sub) : null
    })
  }
  for (const candidate of candidates) {
    const account = await candidate()
    if (account && accountMatchesHint(account, hint)) return account
  }
  return null
}

async function loadRequest(ctx: OAuthContext, requestUri: string | null, clientId: string | null) {
  const id = requestIdFromUri(requestUri)
  if (!id) return { error: 'Missing or invalid request_uri' }
  const rec = await ctx.store.readRequest(id)
  if (!rec || rec.expiresAt <= Date.now())
    return { error: 'This authorization request has expired or was already used' }
  if (clientId !== rec.clientId) return { error: 'client_id does not match the authorization request' }
  return { rec }
}

/** GET /oauth/authorize?client_id&request_uri */
export async function handleAuthorizeGet(ctx: OAuthContext, request: Request): Promise<Response> {
  const url = new URL(request.url)
  const loaded = await loadRequest(
    ctx,
    url.searchParams.get('request_uri'),
    url.searchParams.get('client_id'),
  )
  if (!loaded.rec) return errorPage(ctx, request, loaded.error)
  const rec = loaded.rec
  let deviceId = readCookie(request, DEVICE_COOKIE)
  let setCookie: string | undefined
  if (!deviceId || !/^[A-Za-z0-9_-]{22,64}$/.test(deviceId)) {
    deviceId = randomId(24)
    const secure = ctx.issuer.startsWith('https:') ? '; Secure' : ''
    const maxAge = ctx.lifetimes.deviceSession
    setCookie = `${DEVICE_COOKIE}=${deviceId}; Path=/oauth; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure}`
  }
  // The request belongs to the first browser that opens it.
  if (rec.deviceId && rec.deviceId !== deviceId) {
    return errorPage(ctx, request, 'This authorization request was opened in another browser')
  }
  if (!rec.deviceId) {
    rec.deviceId = deviceId
    await ctx.store.updateRequest(rec.id, {
      deviceId,
      expiresAt: Math.max(rec.expiresAt, Date.now() + INTERACTION_MS),
    })
  }
  const it: Interaction = { ctx, request, rec, deviceId, setCookie }
  const prompt = rec.parameters.prompt
  if (prompt === 'create' && ctx.accounts.createAccount) return render(it, 'sign-up')
  const account = await currentAccount(it)
  if (prompt === 'none') {
    // Consent is always interactive here, so a silent request cannot succeed.
    await ctx.store.consumeRequest(rec.id)
    return redirectToClient(ctx, rec, { error: account ? 'consent_required' : 'login_required' })
  }
  if (account) return render(it, 'consent', { account })
  // Managed accounts with the host's own sign-in page: send the member there, and back here after.
  if (ctx.accounts.signInUrl && prompt !== 'login') {
    const location = ctx.accounts.signInUrl(`${url.pathname}${url.search}`, request)
    if (location) {
      const headers = new Headers({ location, 'cache-control': 'no-store' })
      if (setCookie) headers.append('set-cookie', setCookie)
      return new Response(null, { status: 303, headers })
    }
  }
  return render(it, 'sign-in')
}

/** HTTP status of a user-facing hook error (`status` 400-499 when set, e.g. 429), else 400. */
function userStatus(err: unknown): number {
  const s = (err as { status?: unknown })?.status
  return typeof s === 'number' && s >= 400 && s < 500 ? s : 400
}

function userMessage(err: unknown): string | undefined {
  const m = (err as { userMessage?: unknown })?.userMessage
  return typeof m === 'string' ? m : undefined
}

/** POST /oauth/authorize (the page's forms). */
export async function handleAuthorizePost(
  ctx: OAuthContext,
  request: Request,
  connection: ConnectionInfo = {},
): Promise<Response> {
  // Browsers send Origin on POST: anything but our own origin is a cross-site submission.
  const origin = request.headers.get('origin')
  if (origin !== null && origin !== new URL(ctx.issuer).origin) {
    return errorPage(ctx, request, 'Cross-site form submission refused', 403)
  }
  const type = request.headers.get('content-type')?.split(';')[0]?.trim()
  if (type !== 'application/x-www-form-urlencoded')
    return errorPage(ctx, request, 'Unsupported form encoding', 415)
  const form = new URLSearchParams(await request.text())
  const loaded = await loadRequest(ctx, form.get('request_uri'), form.get('client_id'))
  if (!loaded.rec) return errorPage(ctx, request, loaded.error)
  const rec = loaded.rec
  const deviceId = readCookie(request, DEVICE_COOKIE)
  const csrf = form.get('csrf_token') ?? ''
  if (!deviceId || rec.deviceId !== deviceId || !safeEqual(csrf, csrfToken(ctx, deviceId, rec.id))) {
    return errorPage(ctx, request, 'Invalid or missing CSRF token; reload the page and try again', 403)
  }
  const it: Interaction = { ctx, request, rec, deviceId }
  const hint = rec.parameters.login_hint

  const signedIn = async (account: OAuthAccount) => {
    rec.sub = account.sub
    await ctx.store.updateRequest(rec.id, { sub: account.sub })
    if (form.get('remember') === '1') {
      await ctx.store.createDeviceSession({
        deviceId,
        sub: account.sub,
        expiresAt: Date.now() + ctx.lifetimes.deviceSession * 1000,
      })
    }
    return render(it, 'consent', { account })
  }

  switch (form.get('action')) {
    case 'sign-in': {
      const identifier = form.get('identifier')?.trim() ?? ''
      const password = form.get('password') ?? ''
      if (!identifier || !password)
        return render(it, 'sign-in', { error: 'Enter your handle and password', status: 400 })
      let account: OAuthAccount | null
      try {
        account = await ctx.accounts.authenticate(identifier, password, request, connection)
      } catch (err) {
        const msg = userMessage(err)
        if (!msg) console.error('oauth: authenticate failed', err)
        return render(it, 'sign-in', { error: msg ?? 'Sign-in failed', status: userStatus(err) })
      }
      if (!account) return render(it, 'sign-in', { error: 'Wrong handle or password', status: 401 })
      if (!accountMatchesHint(account, hint)) {
        return render(it, 'sign-in', {
          error: `The app asked for ${hint}; sign in with that account`,
          status: 400,
        })
      }
      return signedIn(account)
    }
    case 'sign-up': {
      if (!ctx.accounts.createAccount)
        return render(it, 'sign-in', { error: 'Sign-up is not available', status: 400 })
      try {
        const account = await ctx.accounts.createAccount(
          {
            handle: form.get('handle') ?? '',
            email: form.get('email') ?? '',
            password: form.get('password') ?? '',
            inviteCode: form.get('invite_code') || undefined,
          },
          request,
        )
        return signedIn(account)
      } catch (err) {
        const msg = userMessage(err)
        if (!msg) console.error('oauth: createAccount failed', err)
        return render(it, 'sign-up', {
          error: msg ?? 'Could not create the account',
          status: userStatus(err),
        })
      }
    }
    case 'switch-account': {
      await ctx.store.deleteDeviceSession(deviceId)
      await ctx.store.updateRequest(rec.id, { sub: undefined })
      rec.sub = undefined
      return render(it, 'sign-in')
    }
    case 'deny': {
      if (!(await ctx.store.consumeRequest(rec.id)))
        return errorPage(ctx, request, 'Request already completed')
      return redirectToClient(ctx, rec, {
        error: 'access_denied',
        error_description: 'The user denied the request',
      })
    }
    case 'consent': {
      const account = await currentAccount(it)
      if (!account) return render(it, 'sign-in', { error: 'Sign in first', status: 401 })
      // Exactly one code per request, even with concurrent submissions.
      const consumed = await ctx.store.consumeRequest(rec.id)
      if (!consumed) return errorPage(ctx, request, 'This authorization request was already used')
      const code = `cod-${randomId(32)}`
      await ctx.store.createCode(
        code,
        {
          clientId: consumed.clientId,
          clientAuth: consumed.clientAuth,
          sub: account.sub,
          scope: consumed.parameters.scope,
          redirectUri: consumed.parameters.redirect_uri,
          codeChallenge: consumed.parameters.code_challenge,
          dpopJkt: consumed.dpopJkt,
          requestId: consumed.id,
        },
        Date.now() + ctx.lifetimes.code * 1000,
      )
      return redirectToClient(ctx, consumed, { code })
    }
    default:
      return render(it, 'sign-in', { error: 'Unknown action', status: 400 })
  }
}
