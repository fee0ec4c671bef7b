/**
 * The client address for route handlers, which Next.js gives no socket: `createNextServer` writes it in
 * a request header together with a per-process secret (overwriting whatever the client sent), and
 * `toNextJsHandler` believes the header only with that secret. Under plain `next start` there is no
 * secret, so the header is ignored and the address stays unknown.
 */

/** The header `createNextServer` sets on every request: `<secret> <address>`. */
export const REMOTE_ADDRESS_HEADER = 'x-next-atproto-remote'

const SECRET = Symbol.for('next-atproto.remote-address-secret')

/** Called by the custom server; shared through globalThis with the route bundles of the same process. */
export function setRemoteAddressSecret(secret: string): void {
  ;(globalThis as { [SECRET]?: string })[SECRET] = secret
}

/** The client address the custom server vouched for, or undefined. */
export function remoteAddressOf(request: Request): string | undefined {
  const secret = (globalThis as { [SECRET]?: string })[SECRET]
  const value = request.headers.get(REMOTE_ADDRESS_HEADER)
  if (!secret || !value) return undefined
  const space = value.indexOf(' ')
  if (space === -1 || value.slice(0, space) !== secret) return undefined
  return value.slice(space + 1) || undefined
}
