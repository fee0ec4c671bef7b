/**
 * Discovery: a PDS's protected-resource metadata names its authorization server; that server's
 * metadata must be its own (issuer = the origin it was fetched from) and meet the atproto profile.
 */
import * as oauth from 'oauth4webapi'
import { OAuthMetadataError } from './errors.js'

type Fetch = (input: string, init?: RequestInit) => Promise<Response>

/** Validated authorization server metadata, as oauth4webapi uses it. */
export type AuthorizationServerMetadata = oauth.AuthorizationServer & {
  pushed_authorization_request_endpoint: string
  token_endpoint: string
  authorization_endpoint: string
}

/** `url` as a bare origin (scheme, host, port; no path, query, fragment or credentials), or null. */
export function bareOrigin(url: string): string | null {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return null
  }
  if (u.username || u.password || u.search || u.hash || (u.pathname !== '/' && u.pathname !== '')) return null
  if (url.replace(/\/$/, '') !== u.origin) return null // explicit default ports and other spellings
  return u.origin
}

async function getJson(fetch: Fetch, url: string, what: string): Promise<Record<string, unknown>> {
  let res: Response
  try {
    res = await fetch(url, { headers: { accept: 'application/json' } })
  } catch (err) {
    throw new OAuthMetadataError(`Could not fetch the ${what} (${url}): ${(err as Error).message}`, {
      cause: err,
    })
  }
  // The profile wants exactly 200 (no other 2xx, no redirect) and a JSON object.
  if (res.status !== 200) throw new OAuthMetadataError(`The ${what} answered ${res.status} (${url})`)
  if (!/^application\/json\b/i.test(res.headers.get('content-type') ?? '')) {
    throw new OAuthMetadataError(`The ${what} is not application/json (${url})`)
  }
  const body = await res.json().catch(() => null)
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new OAuthMetadataError(`The ${what} is not a JSON object (${url})`)
  }
  return body as Record<string, unknown>
}

/**
 * The issuer a PDS delegates to, from `/.well-known/oauth-protected-resource`.
 * @throws {OAuthMetadataError}
 */
export async function fetchProtectedResourceIssuer(fetch: Fetch, pdsUrl: string): Promise<string> {
  const origin = new URL(pdsUrl).origin
  const md = await getJson(
    fetch,
    `${origin}/.well-known/oauth-protected-resource`,
    'protected resource metadata',
  )
  if (typeof md.resource === 'string' && new URL(md.resource).origin !== origin) {
    throw new OAuthMetadataError(
      `Protected resource metadata of ${origin} names another resource (${md.resource})`,
    )
  }
  const servers = md.authorization_servers
  if (!Array.isArray(servers) || servers.length === 0 || typeof servers[0] !== 'string') {
    throw new OAuthMetadataError(`Protected resource metadata of ${origin} names no authorization server`)
  }
  const issuer = bareOrigin(servers[0])
  if (!issuer)
    throw new OAuthMetadataError(`Authorization server ${servers[0]} of ${origin} is not a bare origin`)
  return issuer
}

const includes = (v: unknown, x: string) => Array.isArray(v) && v.includes(x)

/**
 * Fetch and check `/.well-known/oauth-authorization-server` of `issuer`: its `issuer` must equal the
 * origin fetched (oauth4webapi checks), and it must support what atproto requires of every server.
 * @throws {OAuthMetadataError}
 */
export async function fetchAuthorizationServerMetadata(
  fetch: Fetch,
  issuer: string,
  opts: { allowHttp?: boolean; authMethod: 'none' | 'private_key_jwt' },
): Promise<AuthorizationServerMetadata> {
  if (bareOrigin(issuer) !== issuer) throw new OAuthMetadataError(`Issuer ${issuer} is not a bare origin`)
  const url = `${issuer}/.well-known/oauth-authorization-server`
  let res: Response
  try {
    res = await fetch(url, { headers: { accept: 'application/json' } })
  } catch (err) {
    throw new OAuthMetadataError(
      `Could not fetch the authorization server metadata (${url}): ${(err as Error).message}`,
      {
        cause: err,
      },
    )
  }
  if (res.status !== 200)
    throw new OAuthMetadataError(`Authorization server metadata answered ${res.status} (${url})`)
  let md: oauth.AuthorizationServer
  try {
    md = await oauth.processDiscoveryResponse(new URL(issuer), res)
  } catch (err) {
    throw new OAuthMetadataError(
      `Authorization server metadata of ${issuer} rejected: ${(err as Error).message}`,
      {
        cause: err,
      },
    )
  }
  // processDiscoveryResponse compares `issuer` as a URL string; atproto wants the exact origin.
  if (md.issuer !== issuer && md.issuer !== `${issuer}/`) {
    throw new OAuthMetadataError(
      `Authorization server metadata names issuer ${md.issuer}, fetched from ${issuer}`,
    )
  }
  const missing: string[] = []
  if (!includes(md.response_types_supported, 'code')) missing.push('response type code')
  if (!includes(md.code_challenge_methods_supported, 'S256')) missing.push('PKCE S256')
  if (!includes(md.dpop_signing_alg_values_supported, 'ES256')) missing.push('DPoP ES256')
  if (!includes(md.scopes_supported, 'atproto')) missing.push('the atproto scope')
  if (!includes(md.token_endpoint_auth_methods_supported, opts.authMethod))
    missing.push(`${opts.authMethod} client auth`)
  if (md.authorization_response_iss_parameter_supported !== true)
    missing.push('iss in authorization responses')
  if (md.client_id_metadata_document_supported !== true) missing.push('client ID metadata documents')
  for (const k of [
    'authorization_endpoint',
    'token_endpoint',
    'pushed_authorization_request_endpoint',
  ] as const) {
    const v = md[k]
    if (typeof v !== 'string') missing.push(k)
    else {
      const u = new URL(v)
      if (u.protocol !== 'https:' && !(opts.allowHttp && u.protocol === 'http:')) missing.push(`https ${k}`)
    }
  }
  if (missing.length) {
    throw new OAuthMetadataError(
      `Authorization server ${issuer} lacks what atproto requires: ${missing.join(', ')}`,
    )
  }
  return md as AuthorizationServerMetadata
}

/**
 * When the authorization server lists the resources it serves (`protected_resources`), the PDS must be
 * one of them: a PDS cannot name an issuer that does not claim it back.
 * @throws {OAuthMetadataError}
 */
export function assertServesResource(md: AuthorizationServerMetadata, pdsUrl: string): void {
  const list = md.protected_resources
  if (!Array.isArray(list)) return
  const origin = new URL(pdsUrl).origin
  const claimed = list.some((r) => typeof r === 'string' && URL.canParse(r) && new URL(r).origin === origin)
  if (!claimed) throw new OAuthMetadataError(`Authorization server ${md.issuer} does not serve ${origin}`)
}
