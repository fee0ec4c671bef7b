/**
 * The default authorization interface: one small server-rendered HTML page (sign in, sign up, consent,
 * error) with inline styles and no external assets. Hosts replace it with `renderAuthorizePage`.
 */
import type { OAuthAccount } from './accounts.js'
import { parseScope } from './scopes.js'

/** Everything a page needs to render one step of the authorization flow. */
export interface AuthorizePageView {
  step: 'sign-in' | 'sign-up' | 'consent' | 'error'
  /** POST target of every form. */
  actionUrl: string
  /** Hidden fields every form must send back (request_uri, client_id, csrf_token). */
  hidden: Record<string, string>
  client?: {
    id: string
    /** Only set for trusted clients: unverified metadata must not be shown (oauth.md). */
    name?: string
    uri?: string
    logoUri?: string
    trusted: boolean
  }
  /** Requested scopes with a human description each. */
  scopes: Array<{ scope: string; description: string }>
  account?: OAuthAccount
  /** Pre-fill for the identifier field (`login_hint`). */
  loginHint?: string
  /** Message to show (failed sign-in, expired request…). */
  error?: string
  /** OAuth error code of the `error` step (`invalid_request`, `access_denied`). */
  errorCode?: string
  /** Whether `prompt=create` sign-up is available. */
  canSignUp: boolean
}

/** A readable description of a scope, for consent screens. */
export function describeScope(scope: string): string {
  const p = parseScope(scope)
  if (!p) return scope
  switch (p.resource) {
    case 'atproto':
      return 'Know your account identity (DID and handle)'
    case 'transition:generic':
      return 'Read and write your public records, upload media, and call services on your behalf (no DMs, no account changes)'
    case 'transition:chat.bsky':
      return 'Read and send your direct messages'
    case 'transition:email':
      return 'See your email address'
    case 'repo':
      return `${p.action.join(', ')} ${p.collection.includes('*') ? 'any record' : p.collection.join(', ')} records`
    case 'blob':
      return `Upload files (${p.accept.join(', ')})`
    case 'rpc':
      return `Call ${p.lxm.includes('*') ? 'any method' : p.lxm.join(', ')} on ${p.aud === '*' ? 'any service' : p.aud}`
    case 'account':
      return `${p.action === 'manage' ? 'Manage' : 'See'} your account ${p.attr}`
    case 'identity':
      return p.attr === '*' ? 'Full control of your identity (DID document and handle)' : 'Change your handle'
    case 'include':
      return `Permission set ${p.nsid}`
  }
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;background:#f4f5f7;margin:0;display:flex;justify-content:center}
main{background:#fff;max-width:26rem;width:100%;margin:3rem 1rem;padding:2rem;border-radius:12px;box-shadow:0 1px 4px #0002}
h1{font-size:1.3rem;margin:0 0 1rem}label{display:block;margin:.75rem 0 .25rem;font-weight:600}
input[type=text],input[type=password],input[type=email]{width:100%;box-sizing:border-box;padding:.6rem;border:1px solid #ccd;border-radius:6px;font:inherit}
button{font:inherit;padding:.6rem 1.2rem;border-radius:6px;border:0;cursor:pointer;margin:1rem .5rem 0 0}
.primary{background:#1566d6;color:#fff}.secondary{background:#e6e8ec}.error{color:#b00020;background:#fde8ec;padding:.5rem .75rem;border-radius:6px}
code{word-break:break-all;font-size:.9em}ul{padding-left:1.2rem}.muted{color:#667}`

function hiddenFields(view: AuthorizePageView): string {
  return Object.entries(view.hidden)
    .map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`)
    .join('')
}

function clientLine(view: AuthorizePageView): string {
  const c = view.client
  if (!c) return ''
  const name = c.trusted && c.name ? `<strong>${esc(c.name)}</strong> ` : ''
  return `<p>${name}<code>${esc(c.id)}</code></p>`
}

/** Render the default page for a step. */
export function renderDefaultAuthorizePage(view: AuthorizePageView): string {
  const err = view.error ? `<p class="error" role="alert">${esc(view.error)}</p>` : ''
  let body: string
  switch (view.step) {
    case 'error':
      body = `<h1>Authorization failed</h1>${err}${view.errorCode ? `<p class="muted">Error code: <code>${esc(view.errorCode)}</code></p>` : ''}`
      break
    case 'sign-in':
      body = `<h1>Sign in</h1><p class="muted">to authorize</p>${clientLine(view)}${err}
<form method="post" action="${esc(view.actionUrl)}">${hiddenFields(view)}
<label for="identifier">Handle or email</label><input id="identifier" name="identifier" type="text" autocomplete="username" required value="${esc(view.loginHint ?? '')}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<label><input type="checkbox" name="remember" value="1"> Remember this device</label>
<button class="primary" name="action" value="sign-in">Sign in</button><button class="secondary" name="action" value="deny" formnovalidate>Cancel</button></form>`
      break
    case 'sign-up':
      body = `<h1>Create an account</h1>${clientLine(view)}${err}
<form method="post" action="${esc(view.actionUrl)}">${hiddenFields(view)}
<label for="handle">Handle</label><input id="handle" name="handle" type="text" required>
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="email" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="new-password" required>
<label for="invite_code">Invite code (if required)</label><input id="invite_code" name="invite_code" type="text">
<button class="primary" name="action" value="sign-up">Create account</button><button class="secondary" name="action" value="deny" formnovalidate>Cancel</button></form>`
      break
    case 'consent': {
      const who = view.account?.handle ? `@${view.account.handle}` : (view.account?.sub ?? '')
      const scopes = view.scopes.map((s) => `<li>${esc(s.description)}</li>`).join('')
      body = `<h1>Authorize this app?</h1>${clientLine(view)}
<p>Signed in as <strong>${esc(who)}</strong></p>${err}<p>It will be able to:</p><ul>${scopes}</ul>
<form method="post" action="${esc(view.actionUrl)}">${hiddenFields(view)}
<button class="primary" name="action" value="consent">Authorize</button><button class="secondary" name="action" value="deny">Deny</button>
<button class="secondary" name="action" value="switch-account">Use another account</button></form>`
      break
    }
  }
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="same-origin"><title>Authorize</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`
}
