/**
 * com.atproto.moderation.createReport: a PDS does not judge reports, it forwards them (as the reference
 * does) to the moderation service the operator configured (`reportService`), with a service-auth token
 * of the reporting account, through the XRPC proxy. An `atproto-proxy` header may name that service
 * (any service id); other services are refused, so a client cannot make this server call arbitrary
 * endpoints. Without a configured service the method answers 501.
 */
import { randomUUID } from 'node:crypto'
import { ids } from '../../lexicons/nsid.js'
import { parseProxyHeader, proxyRequest } from '../../xrpc/proxy.js'
import type { XrpcServer } from '../../xrpc/server.js'
import { InvalidRequestError, MethodNotImplementedError } from '../../xrpc/xrpc-error.js'
import type { PdsVerifiers } from '../auth.js'
import type { PdsContext } from '../context.js'
import { AccountSigningKey } from '../signing-key.js'
import { bodyOf } from './util.js'

const b64url = (v: Uint8Array | string) => Buffer.from(v).toString('base64url')

/** A service-auth JWT signed by `iss`'s repo key for `aud` and method `lxm`, valid for 60 s. */
export async function mintServiceAuth(
  ctx: PdsContext,
  claims: { iss: string; aud: string; lxm: string },
): Promise<string> {
  const account = await ctx.storage.accounts.getByDid(claims.iss)
  if (!account) throw new InvalidRequestError('Account not found', 'AccountNotFound')
  const key = AccountSigningKey.fromBytes(account.signingKey)
  const now = Math.floor(Date.now() / 1000)
  const header = b64url(JSON.stringify({ typ: 'JWT', alg: key.jwtAlg }))
  const payload = b64url(JSON.stringify({ ...claims, iat: now, exp: now + 60, jti: randomUUID() }))
  const sig = await key.sign(new TextEncoder().encode(`${header}.${payload}`))
  return `${header}.${payload}.${b64url(sig)}`
}

/** Register createReport. */
export function registerModerationMethods(xrpc: XrpcServer, ctx: PdsContext, auth: PdsVerifiers): void {
  const service = ctx.options.reportService

  xrpc.procedure(ids.ComAtprotoModerationCreateReport, {
    input: { encoding: 'application/json' },
    auth: auth.access,
    async handler({ auth: a, input, request, connection, signal, nsid }) {
      if (!service) {
        throw new MethodNotImplementedError('This server has no moderation service configured for reports')
      }
      const body = bodyOf(input)
      if (typeof body.reasonType !== 'string')
        throw new InvalidRequestError('Input/reasonType must be a string')
      if (body.subject === null || typeof body.subject !== 'object') {
        throw new InvalidRequestError('Input/subject must be an object')
      }
      const header = request.headers.get('atproto-proxy') ?? `${service.did}#atproto_labeler`
      if (parseProxyHeader(header).did !== service.did) {
        throw new InvalidRequestError(`Reports are forwarded to ${service.did} only`)
      }
      // The JSON body was read here; the upstream gets it re-encoded (so no stale content-length).
      const headers = new Headers(request.headers)
      headers.delete('content-length')
      headers.delete('content-encoding')
      const forwarded = new Request(request.url, { method: 'POST', headers, body: JSON.stringify(body) })
      return proxyRequest(
        {
          resolveService: async () => service.url,
          authenticate: async () => ({ did: a.did }),
          mintServiceAuth: (claims) => mintServiceAuth(ctx, claims),
          fetch: service.fetch,
        },
        { nsid, params: {}, request: forwarded, connection, signal },
        header,
      )
    },
  })
}
