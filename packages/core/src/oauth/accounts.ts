/** How the authorization server reaches the host app's accounts. */
import type { ConnectionInfo } from '../xrpc/types.js'

/** An account that can authorize clients. `sub` is its DID. */
export interface OAuthAccount {
  /** The account DID: the `sub` of tokens. */
  sub: string
  handle?: string
  displayName?: string
  email?: string
}

/** Input of {@link OAuthAccountProvider.createAccount} (sign-up via `prompt=create`). */
export interface OAuthSignUpInput {
  handle: string
  email: string
  password: string
  inviteCode?: string
}

/**
 * Hooks into the host app's users. Errors thrown by `authenticate` or `createAccount` with a
 * `userMessage` string property are shown on the form (with their `status`, 400-499, default 400);
 * others are logged and shown generically.
 */
export interface OAuthAccountProvider {
  /**
   * Check a password sign-in (identifier: handle, email or DID); null when it fails. `connection`
   * carries the client address, for rate limiting.
   */
  authenticate(
    identifier: string,
    password: string,
    request: Request,
    connection?: ConnectionInfo,
  ): Promise<OAuthAccount | null>
  /** Look an account up by DID (null when deleted or taken down: its sessions then stop working). */
  getAccount(sub: string): Promise<OAuthAccount | null>
  /**
   * "Managed accounts": the member already signed in to the host app (its own session cookie), who
   * then only needs to approve the client, no password. Return null when nobody is signed in.
   */
  currentUser?(request: Request): Promise<OAuthAccount | null>
  /**
   * The host app's own sign-in page: when nobody is signed in, the authorization page redirects there
   * instead of showing its password form. `returnTo` is the same-origin path (with query) to send the
   * member back to once signed in; {@link currentUser} then recognises them and only consent is asked.
   * Return null to show the default form for this request. Not used for `prompt=login` or
   * `prompt=create`, which always get the built-in forms.
   */
  signInUrl?(returnTo: string, request: Request): string | null | undefined
  /** Create an account (`prompt=create`); leave undefined to disable sign-up. */
  createAccount?(input: OAuthSignUpInput, request: Request): Promise<OAuthAccount>
}

/** Whether `account` is the one `hint` (handle or DID, from `login_hint`) names. */
export function accountMatchesHint(account: OAuthAccount, hint: string | undefined): boolean {
  if (!hint) return true
  const h = hint.toLowerCase().replace(/^@/, '')
  return account.sub === hint || account.handle?.toLowerCase() === h
}
