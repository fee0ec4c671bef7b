/**
 * next-atproto: mount @next-atproto/core in a Next.js app (route handlers, custom server for the
 * WebSocket upgrade) and give the host app typed access to what it hosts.
 * @packageDocumentation
 */
export { type FetchHandler, type RouteHandler, toNextJsHandler } from './handler.js'
export {
  type CookieSource,
  type OAuthClientRoutes,
  type OAuthClientRoutesOptions,
  oauthClientRoutes,
} from './oauth-client.js'
export { createNextServer, type NextServerOptions, type UpgradeHandler } from './server.js'
export { atprotoWellKnown, type WellKnownOptions } from './well-known.js'
