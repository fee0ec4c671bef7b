/**
 * Next.js App Router glue. If you are writing a mount for another framework, keep it this thin: the
 * logic lives in @next-atproto/core, which speaks Web `Request`/`Response`.
 */

/** What the mounts need of the core app object (structural, so any version of core fits). */
export interface FetchHandler {
  fetch(request: Request): Promise<Response>
}

/** Route handler signature Next.js expects from a `route.ts` export. */
export type RouteHandler = (request: Request) => Promise<Response>

/**
 * Route handlers for an App Router `route.ts` file:
 * `export const { GET, HEAD, POST, OPTIONS } = toNextJsHandler(atproto)`.
 */
export function toNextJsHandler(app: FetchHandler): {
  GET: RouteHandler
  HEAD: RouteHandler
  POST: RouteHandler
  PUT: RouteHandler
  DELETE: RouteHandler
  OPTIONS: RouteHandler
} {
  const handler: RouteHandler = (request) => app.fetch(request)
  return { GET: handler, HEAD: handler, POST: handler, PUT: handler, DELETE: handler, OPTIONS: handler }
}
