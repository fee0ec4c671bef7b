import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { migrateAtproto, PrismaOAuthClientStore } from '@next-atproto/adapters'
import {
  type ClientMetadataDocument,
  createAtproto,
  developmentClientMetadata,
  IdentityResolver,
  OAuthClient,
  type OAuthClientOptions,
  webClientMetadata,
} from '@next-atproto/core'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { oauthClientRoutes } from 'next-atproto'
import { PrismaClient } from '../prisma/generated/client'

/** What the blog signs users in for: write its own post records, nothing else. */
export const SCOPE = process.env.OAUTH_SCOPE ?? 'atproto repo:dev.nextatproto.blog.post'

function config() {
  const port = process.env.PORT ?? '3001'
  const publicUrl = (process.env.PUBLIC_URL ?? `http://127.0.0.1:${port}`).replace(/\/+$/, '')
  // Development only: let the client reach loopback servers over http (a local PDS).
  const dev = process.env.OAUTH_ALLOW_LOOPBACK === '1'
  return { publicUrl, dev, dataDir: resolve(/*turbopackIgnore: true*/ process.env.DATA_DIR ?? 'data') }
}

function clientMetadata(publicUrl: string, confidential: boolean): ClientMetadataDocument {
  if (publicUrl.startsWith('http://')) {
    // A loopback development client: no metadata document to host (atproto OAuth profile).
    return developmentClientMetadata({ redirectUris: [`${publicUrl}/oauth/callback`], scope: SCOPE })
  }
  return webClientMetadata({
    publicUrl,
    redirectUris: ['/oauth/callback'],
    scope: SCOPE,
    clientName: 'next-atproto blog',
    authMethod: confidential ? 'private_key_jwt' : 'none',
  })
}

/**
 * Handles resolve by DNS and HTTPS well-known. A development network whose handles live nowhere in
 * DNS (`alice.test`) names a service that resolves them instead (HANDLE_RESOLVER_URL, e.g. the local
 * PDS): operator configuration, like the PLC directory URL.
 */
function identity(dev: boolean): IdentityResolver {
  const resolver = process.env.HANDLE_RESOLVER_URL?.replace(/\/+$/, '')
  return new IdentityResolver({
    plcUrl: process.env.PLC_URL,
    allowHttp: dev,
    allowLoopback: dev,
    ...(resolver
      ? {
          resolveTxt: async (name: string) => {
            const handle = name.replace(/^_atproto\./, '')
            const res = await fetch(
              `${resolver}/xrpc/com.atproto.identity.resolveHandle?handle=${encodeURIComponent(handle)}`,
            )
            if (!res.ok) return []
            return [[`did=${((await res.json()) as { did: string }).did}`]]
          },
        }
      : {}),
  })
}

function create() {
  const { publicUrl, dev, dataDir } = config()
  const prisma = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${dataDir}/blog.db` }) })
  // Confidential client: a private ES256 JWK (with kid) from the secret store, e.g. OAUTH_PRIVATE_KEY.
  const keys: NonNullable<OAuthClientOptions['keys']> = process.env.OAUTH_PRIVATE_KEY
    ? [JSON.parse(process.env.OAUTH_PRIVATE_KEY)]
    : []
  const client = new OAuthClient({
    metadata: clientMetadata(publicUrl, keys.length > 0),
    keys,
    store: PrismaOAuthClientStore.from(prisma),
    identity: identity(dev),
    fetch: { allowHttp: dev, allowLoopback: dev },
  })
  const app = createAtproto({
    publicUrl,
    services: [
      // The adapter's migrations (idempotent) when the server starts, before the first query.
      {
        name: 'migrate',
        setup() {},
        start: async () => {
          mkdirSync(dataDir, { recursive: true })
          await migrateAtproto(prisma as never, 'sqlite')
        },
      },
      client.service(),
    ],
  })
  const routes = oauthClientRoutes(client, { publicUrl, signInPage: '/signin', afterSignIn: '/' })
  return {
    client,
    app,
    routes,
    /** Resolves once the database is migrated (server.ts starts the app; this only waits for it). */
    get ready() {
      return app.start()
    },
  }
}

type Blog = ReturnType<typeof create>
// One instance per process, shared by every route bundle.
const g = globalThis as unknown as { blogAtproto?: Blog }
export const blog: Blog = (g.blogAtproto ??= create())
