/**
 * Next.js App Router glue. If you are writing a mount for another framework, keep it this thin: the
 * logic lives in @next-atproto/core, which speaks Web `Request`/`Response`.
 */

import { remoteAddressOf } from './remote-address.js'

/** What the mounts need of the core app object (structural, so any version of core fits). */
export interface FetchHandler {
  fetch(request: Request, connection?: { remoteAddress?: string }): Promise<Response>
}

/** Route handler signature Next.js expects from a `route.ts` export. */
export type RouteHandler = (request: Request) => Promise<Response>

/**
 * Route handlers for an App Router catch-all route file, `app/xrpc/[...nsid]/route.ts`:
 * `export const { GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS } = toNextJsHandler(atproto)`.
 * Export every method: one Next.js does not find answers with its own empty 405, where XRPC wants
 * a JSON error (405 MethodNotAllowed, or 501 for an unknown NSID); the catch-all segment makes paths
 * like `/xrpc/a/b` get an XRPC 400 instead of the app's HTML 404.
 */
export function toNextJsHandler(app: FetchHandler): {
  GET: RouteHandler
  HEAD: RouteHandler
  POST: RouteHandler
  PUT: RouteHandler
  DELETE: RouteHandler
  PATCH: RouteHandler
  OPTIONS: RouteHandler
} {
  // The client address comes from createNextServer (see remote-address.ts); without it, unknown.
  const handler: RouteHandler = (request) => app.fetch(request, { remoteAddress: remoteAddressOf(request) })
  return {
    GET: handler,
    HEAD: handler,
    POST: handler,
    PUT: handler,
    DELETE: handler,
    PATCH: handler,
    OPTIONS: handler,
  }
}
