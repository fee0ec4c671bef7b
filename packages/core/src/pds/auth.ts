/** Who is calling a PDS endpoint: legacy session JWTs (password / app password) and OAuth DPoP tokens. */

import type { AccountRow } from '../storage/types.js'
import { authByScheme, sessionJwtVerifier } from '../xrpc/auth.js'
import type { AuthVerifier, RequestContext } from '../xrpc/types.js'
import { AuthRequiredError, ForbiddenError } from '../xrpc/xrpc-error.js'
import type { PdsContext } from './context.js'
import { SessionScope } from './session-tokens.js'

/** A verified caller. */
export interface PdsAuth {
  did: string
  /** `session` (password), `appPass`, `appPassPrivileged`, or `oauth`. */
  kind: 'session' | 'appPass' | 'appPassPrivileged' | 'oauth'
  /** OAuth scopes (for `kind: 'oauth'`). */
  scopes?: unknown
  /** The verified token (refresh tokens carry their id in `jti`). */
  token?: string
  refreshId?: string
  /**
   * The caller's account as read while verifying this request: handlers of the same request reuse it
   * (repo resolution, write authorization, the signing key) instead of reading it again.
   */
  account?: AccountRow
  /** Set on the response by the XRPC server (the DPoP nonce for OAuth callers). */
  responseHeaders?: Record<string, string>
}

/** Verifiers the PDS endpoints use. */
export interface PdsVerifiers {
  access: AuthVerifier<PdsAuth>
  /** Access, but privileged only (no plain app passwords): account management. */
  accessPrivileged: AuthVerifier<PdsAuth>
  refresh: AuthVerifier<PdsAuth>
  optional: AuthVerifier<PdsAuth | null>
}

const KIND: Record<string, PdsAuth['kind']> = {
  [SessionScope.Access]: 'session',
  [SessionScope.AppPass]: 'appPass',
  [SessionScope.AppPassPrivileged]: 'appPassPrivileged',
}

/** Build the verifiers of a PDS. Deactivated and taken-down accounts are refused here, in one place. */
export function createVerifiers(ctx: PdsContext): PdsVerifiers {
  const bearer = sessionJwtVerifier({
    secret: ctx.jwtSecret,
    scopes: [SessionScope.Access, SessionScope.AppPass, SessionScope.AppPassPrivileged],
    audience: ctx.serviceDid,
  })
  const refreshJwt = sessionJwtVerifier({
    secret: ctx.jwtSecret,
    scopes: [SessionScope.Refresh],
    typ: 'refresh+jwt',
    audience: ctx.serviceDid,
  })
  const oauth = ctx.options.oauth?.accessTokenVerifier()

  const checkAccount = async (did: string): Promise<AccountRow> => {
    const account = await ctx.storage.accounts.getByDid(did)
    if (!account || account.status === 'deleted')
      throw new AuthRequiredError('Account not found', 'InvalidToken')
    if (account.status === 'takendown')
      throw new AuthRequiredError('Account has been taken down', 'AccountTakedown')
    return account
  }

  const session: AuthVerifier<PdsAuth> = async (rc: RequestContext) => {
    const auth = await bearer(rc)
    const account = await checkAccount(auth.did)
    return { did: auth.did, kind: KIND[auth.scope]!, token: auth.token, account }
  }
  const dpop: AuthVerifier<PdsAuth> | undefined = oauth
    ? async (rc) => {
        const auth = await oauth(rc)
        const account = await checkAccount(auth.did)
        // oauth.md: clients must refuse a DPoP response without a nonce, so every one carries it.
        const responseHeaders = auth.dpopNonce ? { 'DPoP-Nonce': auth.dpopNonce } : undefined
        return { did: auth.did, kind: 'oauth', scopes: auth.scopes, account, responseHeaders }
      }
    : undefined
  const access = authByScheme<PdsAuth, PdsAuth>({ bearer: session, dpop }) as AuthVerifier<PdsAuth>

  return {
    access,
    async accessPrivileged(rc) {
      const auth = await access(rc)
      if (auth.kind === 'appPass') throw new ForbiddenError('Privileged access required', 'InvalidToken')
      return auth
    },
    async refresh(rc) {
      const auth = await refreshJwt(rc)
      await checkAccount(auth.did)
      return { did: auth.did, kind: 'session', token: auth.token, refreshId: String(auth.payload.jti ?? '') }
    },
    optional: authByScheme<PdsAuth, PdsAuth>({
      bearer: session,
      dpop,
      optional: true,
    }) as AuthVerifier<PdsAuth | null>,
  }
}
