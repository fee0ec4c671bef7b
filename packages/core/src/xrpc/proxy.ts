/**
 * Service proxying (`atproto-proxy: did#serviceId`): resolve the service endpoint, mint a service-auth
 * JWT for the user, forward the request and stream the answer back. Identity resolution and signing
 * are injected, so this stays free of DID and key handling.
 */
import type { RequestContext } from './types.js'
import { InvalidRequestError, UpstreamFailureError, UpstreamTimeoutError, XRPCError } from './xrpc-error.js'

/** What proxying needs from the host. */
export interface ProxyOptions {
  /** Service endpoint URL of `did`'s service `#serviceId` (from its DID document), or null. */
  resolveService(did: string, serviceId: string): Promise<string | null | undefined>
  /** Authenticate the caller (throw AuthRequiredError); proxying is for signed-in users only. */
  authenticate(ctx: RequestContext): Promise<{ did: string }>
  /** A service-auth JWT issued by `iss` for `aud` (`did#serviceId`) and method `lxm`. */
  mintServiceAuth(claims: { iss: string; aud: string; lxm: string }): Promise<string>
  /** Methods that must never be proxied (e.g. account and identity management); default none. */
  isProtected?(nsid: string): boolean
  /** Upstream timeout in ms (default 30 s). */
  timeoutMs?: number
  /** `fetch` used for upstream calls (tests, custom agents). */
  fetch?: typeof fetch
}

/** Request headers forwarded upstream, as the reference PDS does. */
const FORWARD_REQUEST = [
  'accept',
  'accept-language',
  'atproto-accept-labelers',
  'x-bsky-topics',
  'content-type',
  'content-encoding',
  'content-length',
]

/** Upstream headers passed back to the client. `content-encoding/length` are left out because `fetch` decodes. */
const FORWARD_RESPONSE = [
  'content-type',
  'content-language',
  'atproto-repo-rev',
  'atproto-content-labelers',
  'retry-after',
  'cache-control',
]

/** Parse `did#serviceId`; 400 on anything else. */
export function parseProxyHeader(value: string): { did: string; serviceId: string } {
  const parts = value.split('#')
  if (parts.length !== 2) throw new InvalidRequestError('invalid atproto-proxy header')
  const [did, serviceId] = parts
  if (!/^did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]$/.test(did))
    throw new InvalidRequestError('invalid DID in atproto-proxy header')
  if (!serviceId || !/^[a-zA-Z0-9._~:-]+$/.test(serviceId))
    throw new InvalidRequestError('no service id specified')
  return { did, serviceId }
}

/** Forward `ctx.request` to the service named by its `atproto-proxy` header. */
export async function proxyRequest(
  options: ProxyOptions,
  ctx: RequestContext,
  header: string,
): Promise<Response> {
  const { request, nsid } = ctx
  if (request.method !== 'GET' && request.method !== 'HEAD' && request.method !== 'POST') {
    throw new InvalidRequestError('XRPC requests only supports GET and POST')
  }
  if (options.isProtected?.(nsid)) throw new InvalidRequestError('Bad token method', 'InvalidToken')
  const target = parseProxyHeader(header)
  const { did } = await options.authenticate(ctx)
  const endpoint = await options.resolveService(target.did, target.serviceId)
  if (!endpoint) throw new InvalidRequestError('could not resolve proxy did service url')
  let upstreamUrl: URL
  try {
    const incoming = new URL(request.url)
    upstreamUrl = new URL(incoming.pathname + incoming.search, endpoint)
  } catch {
    throw new InvalidRequestError('could not resolve proxy did service url')
  }
  const aud = `${target.did}#${target.serviceId}`
  const jwt = await options.mintServiceAuth({ iss: did, aud, lxm: nsid })

  const headers = new Headers({ authorization: `Bearer ${jwt}`, 'accept-encoding': 'identity' })
  for (const name of FORWARD_REQUEST) {
    const v = request.headers.get(name)
    if (v !== null) headers.set(name, v)
  }
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 30_000)
  const signal = AbortSignal.any([timeout, request.signal])
  let upstream: Response
  try {
    upstream = await (options.fetch ?? fetch)(upstreamUrl, {
      method: request.method,
      headers,
      body: request.method === 'POST' ? request.body : null,
      signal,
      redirect: 'manual',
      // @ts-expect-error `duplex` is required by Node to stream a request body but missing from the DOM types
      duplex: 'half',
    })
  } catch (err) {
    if (timeout.aborted)
      throw new UpstreamTimeoutError('upstream service timed out', undefined, { cause: err })
    if (err instanceof XRPCError) throw err
    throw new UpstreamFailureError('upstream service unreachable', undefined, { cause: err })
  }
  const out = new Headers()
  for (const name of FORWARD_RESPONSE) {
    const v = upstream.headers.get(name)
    if (v !== null) out.set(name, v)
  }
  if (upstream.status >= 300 && upstream.status < 400) {
    upstream.body?.cancel().catch(() => {})
    throw new UpstreamFailureError('upstream service answered with a redirect')
  }
  return new Response(request.method === 'HEAD' ? null : upstream.body, {
    status: upstream.status,
    headers: out,
  })
}
