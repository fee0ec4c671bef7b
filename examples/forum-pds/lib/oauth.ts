/**
 * The forum's OAuth authorization server: third-party atproto apps sign its members in with OAuth.
 * Members signed in to the forum (its session cookie, lib/forum-session.ts) go straight to consent;
 * others get the default sign-in page, or sign up with `prompt=create`.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import {
  type AtprotoService,
  type OAuthServer,
  type OAuthServerOptions,
  type OAuthStore,
  oauthServer,
  type PdsService,
  pdsOAuthAccounts,
} from '@next-atproto/core'
import { type ForumSessions, forumSessions } from './forum-session'

type JWK = NonNullable<OAuthServerOptions['signingKey']>

/** Options of {@link createForumOAuth}. */
export interface ForumOAuthOptions {
  store: OAuthStore
  /** The PDS whose accounts sign in (read lazily: the PDS is created after the OAuth server). */
  pds: () => PdsService
  publicUrl: string
  dataDir: string
}

interface OAuthSecrets {
  /** Hex; derives DPoP nonces and CSRF tokens. */
  secret: string
  /** Hex; signs the forum's session cookie. */
  sessionSecret: string
  /** Private ES256 JWK signing access tokens. */
  signingKey: JWK
}

/**
 * Development secrets kept in the data folder, so tokens and cookies survive restarts. Production sets
 * OAUTH_SECRET and FORUM_SESSION_SECRET (hex) and OAUTH_SIGNING_KEY (a private JWK, JSON) from its
 * secret store.
 */
function oauthSecrets(dataDir: string): OAuthSecrets {
  const env = process.env
  if (env.OAUTH_SECRET && env.OAUTH_SIGNING_KEY && env.FORUM_SESSION_SECRET) {
    return {
      secret: env.OAUTH_SECRET,
      sessionSecret: env.FORUM_SESSION_SECRET,
      signingKey: JSON.parse(env.OAUTH_SIGNING_KEY),
    }
  }
  const file = `${dataDir}/oauth-secrets.json`
  const kept: Partial<OAuthSecrets> = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {}
  if (kept.secret && kept.sessionSecret && kept.signingKey) return kept as OAuthSecrets
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const secrets: OAuthSecrets = {
    secret: randomBytes(32).toString('hex'),
    sessionSecret: randomBytes(32).toString('hex'),
    signingKey: { ...(privateKey.export({ format: 'jwk' }) as JWK), alg: 'ES256', kid: 'forum-1' },
    ...kept,
  }
  writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 })
  return secrets
}

/** The forum's OAuth server and session cookie handling, sharing one account lookup. */
export function createForumOAuth(options: ForumOAuthOptions): {
  oauth: OAuthServer
  sessions: ForumSessions
  /** The forum's own sign-in pages (/forum/login), served beside atproto so every mount gets them. */
  sessionRoutes: AtprotoService
} {
  const secrets = oauthSecrets(options.dataDir)
  const pdsRef = {
    get context() {
      return options.pds().context
    },
  }
  // Password checks of the forum's own login page go through the same PDS accounts.
  const passwords = pdsOAuthAccounts({ pds: pdsRef, signUp: false })
  const sessions = forumSessions({
    secret: secrets.sessionSecret,
    origin: options.publicUrl,
    checkPassword: async (identifier, password, request, connection) =>
      (await passwords.authenticate(identifier, password, request, connection))?.sub ?? null,
  })
  const oauth = oauthServer({
    store: options.store,
    accounts: pdsOAuthAccounts({
      pds: pdsRef,
      // Managed accounts: the forum's session cookie names the member's atproto account.
      currentUser: (request) => sessions.currentUser(request),
    }),
    secret: Buffer.from(secrets.secret, 'hex'),
    signingKey: secrets.signingKey,
    // Development clients (`http://localhost?...`) are fine here; client metadata URLs are fetched
    // SSRF-safe (no private or loopback addresses).
  })
  const sessionRoutes: AtprotoService = {
    name: 'forum-session',
    setup: (ctx) => ctx.route('/forum/*', (request, connection) => sessions.fetch(request, connection)),
  }
  return { oauth, sessions, sessionRoutes }
}
