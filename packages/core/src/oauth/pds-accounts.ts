/**
 * The PDS's own accounts as OAuth accounts: password sign-in, `prompt=create` sign-up through the PDS's
 * account creation, and the host app's signed-in users mapped onto their atproto account ("managed
 * accounts"), so a member of the host app only sees the consent step.
 */
import { authenticate, createAccount, findAccount } from '../pds/accounts.js'
import type { PdsContext } from '../pds/context.js'
import { rateLimiter } from '../pds/rate-limit.js'
import type { AccountRow } from '../storage/types.js'
import { RateLimitExceededError, XRPCError } from '../xrpc/xrpc-error.js'
import type { OAuthAccount, OAuthAccountProvider, OAuthSignUpInput } from './accounts.js'

/** Options of {@link pdsOAuthAccounts}. */
export interface PdsOAuthAccountsOptions {
  /** The PDS service (`pds(...)`); its context is read on each call, once the app is set up. */
  pds: { readonly context: PdsContext }
  /**
   * Managed accounts: who is signed in to the host app on this request (read its own session cookie),
   * as the DID or handle of that user's atproto account on this PDS. Return null when nobody is; the
   * default sign-in page is shown then. A user mapped to an account that is missing or not active is
   * treated as signed out.
   */
  currentUser?(request: Request): Promise<string | null | undefined> | string | null | undefined
  /**
   * The host app's own sign-in page, for members who are not signed in (see
   * {@link OAuthAccountProvider.signInUrl}), e.g. `(returnTo) => \`/login?next=${encodeURIComponent(returnTo)}\``.
   * Without it the default password form of the authorization page is shown.
   */
  signInUrl?(returnTo: string, request: Request): string | null | undefined
  /** Offer `prompt=create` sign-up (default true). */
  signUp?: boolean
}

/** An error whose message the sign-in / sign-up form shows as is. */
class UserFacingError extends Error {
  constructor(
    readonly userMessage: string,
    readonly status = 400,
  ) {
    super(userMessage)
  }
}

const toAccount = (row: AccountRow): OAuthAccount => ({
  sub: row.did,
  handle: row.handle,
  ...(row.email ? { email: row.email } : {}),
})

/** An {@link OAuthAccountProvider} over a PDS's accounts; pass it as `oauthServer({ accounts })`. */
export function pdsOAuthAccounts(options: PdsOAuthAccountsOptions): OAuthAccountProvider {
  const ctx = () => options.pds.context
  const active = (row: AccountRow | null) => (row && row.status === 'active' ? row : null)

  const provider: OAuthAccountProvider = {
    async authenticate(identifier, password, request, connection = {}) {
      // The budget of com.atproto.server.createSession, counted per client address when the mount
      // knows it, and per account name always (a guesser spreading over addresses still stops).
      const c = ctx()
      const rc = {
        nsid: 'oauth.authorize',
        params: {},
        request,
        connection,
        signal: request.signal,
        auth: null,
      }
      const name = identifier.trim().toLowerCase()
      const limits = [
        rateLimiter(c, 'createSession', (r) => r.connection.remoteAddress),
        rateLimiter(c, 'createSession', () => `oauth-account:${name}`),
      ]
      try {
        for (const limit of limits) await limit?.(rc)
      } catch (err) {
        if (err instanceof RateLimitExceededError)
          throw new UserFacingError('Too many sign-in attempts; try again in a few minutes', 429)
        throw err
      }
      try {
        const { account, appPassword } = await authenticate(ctx(), identifier, password)
        // App passwords are for legacy clients; an OAuth grant needs the account's own password.
        if (appPassword) return null
        return active(account) ? toAccount(account) : null
      } catch (err) {
        if (err instanceof XRPCError && err.status === 401) return null
        throw err
      }
    },
    async getAccount(sub) {
      const row = active(await ctx().storage.accounts.getByDid(sub))
      return row ? toAccount(row) : null
    },
  }
  if (options.currentUser) {
    const currentUser = options.currentUser
    provider.currentUser = async (request) => {
      const id = await currentUser(request)
      if (!id) return null
      const row = active(await findAccount(ctx(), id))
      return row ? toAccount(row) : null
    }
  }
  if (options.signInUrl) provider.signInUrl = options.signInUrl
  if (options.signUp !== false) {
    provider.createAccount = async (input: OAuthSignUpInput) => {
      const c = ctx()
      if (c.options.inviteRequired && !input.inviteCode)
        throw new UserFacingError('An invite code is required')
      if (!input.email.includes('@')) throw new UserFacingError('Enter a valid email address')
      // A bare name ("alice") gets the PDS's first handle domain.
      const name = input.handle.trim().replace(/^@/, '')
      const domain = c.handles.domains[0]
      const handle =
        name.includes('.') || !domain ? name : `${name}${domain.startsWith('.') ? '' : '.'}${domain}`
      try {
        return toAccount(await createAccount(c, { handle, email: input.email, password: input.password }))
      } catch (err) {
        // The PDS's own validation messages (handle taken, password too short…) are meant for users.
        if (err instanceof XRPCError && err.status === 400) throw new UserFacingError(err.message)
        throw err
      }
    }
  }
  return provider
}
