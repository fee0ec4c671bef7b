/**
 * com.atproto.server.*: service auth, password reset and account deletion (email-token flows through
 * the pluggable sender; the console in development).
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { ids } from '../../lexicons/nsid.js'
import type { XrpcServer } from '../../xrpc/server.js'
import { InvalidRequestError } from '../../xrpc/xrpc-error.js'
import { authenticate } from '../accounts.js'
import type { PdsVerifiers } from '../auth.js'
import type { PdsContext } from '../context.js'
import { formatAccountEvent } from '../events.js'
import { paramsOf } from '../lexicon-params.js'
import { hashPassword } from '../password.js'
import { toSeqInsert } from '../repo-writer.js'
import { AccountSigningKey } from '../signing-key.js'

const b64url = (v: Uint8Array | string) => Buffer.from(v).toString('base64url')
const TOKEN_TTL_MS = 15 * 60_000

/** An email token in the reference's `xxxxx-xxxxx` shape. */
const emailToken = () => {
  const s = randomBytes(8).toString('base64url').replace(/[-_]/g, 'x').toUpperCase().slice(0, 10)
  return `${s.slice(0, 5)}-${s.slice(5)}`
}

/** Register the account-administration endpoints. */
export function registerAccountAdminMethods(xrpc: XrpcServer, ctx: PdsContext, auth: PdsVerifiers): void {
  const send = async (to: string, subject: string, text: string) => {
    if (ctx.options.email) await ctx.options.email.send({ to, subject, text })
    else console.info(`[pds email] to ${to}: ${subject}\n${text}`)
  }

  xrpc.query(ids.ComAtprotoServerGetServiceAuth, {
    params: paramsOf(ids.ComAtprotoServerGetServiceAuth),
    auth: auth.access,
    async handler({ auth: a, params }) {
      const now = Math.floor(Date.now() / 1000)
      const exp = typeof params.exp === 'number' ? params.exp : now + 60
      if (exp <= now) throw new InvalidRequestError('expiration is in past', 'BadExpiration')
      const lxm = typeof params.lxm === 'string' ? params.lxm : undefined
      // Without a method binding, a token is only given for up to 60 s (as the reference limits it).
      if (exp > now + (lxm ? 3600 : 60))
        throw new InvalidRequestError('expiration too far in future', 'BadExpiration')
      const account = await ctx.storage.accounts.getByDid(a.did)
      if (!account) throw new InvalidRequestError('Account not found', 'AccountNotFound')
      const key = AccountSigningKey.fromBytes(account.signingKey)
      const header = b64url(JSON.stringify({ typ: 'JWT', alg: key.jwtAlg }))
      const payload = b64url(
        JSON.stringify({
          iat: now,
          iss: a.did,
          aud: params.aud,
          exp,
          ...(lxm ? { lxm } : {}),
          jti: randomUUID(),
        }),
      )
      const sig = await key.sign(new TextEncoder().encode(`${header}.${payload}`))
      return { encoding: 'application/json', body: { token: `${header}.${payload}.${b64url(sig)}` } }
    },
  })

  xrpc.procedure(ids.ComAtprotoServerRequestPasswordReset, {
    input: { encoding: 'application/json' },
    async handler({ input }) {
      const email = (input?.body as { email?: unknown })?.email
      if (typeof email !== 'string') throw new InvalidRequestError('Input/email must be a string')
      const account = await ctx.storage.accounts.getByEmail(email.toLowerCase())
      // Same answer whether or not the address is known: no account enumeration.
      if (account) {
        const token = emailToken()
        await ctx.storage.accounts.createEmailToken({
          did: account.did,
          purpose: 'reset_password',
          token,
          expiresAt: new Date(Date.now() + TOKEN_TTL_MS),
        })
        await send(email, 'Password reset', `Your password reset code for ${account.handle}: ${token}`)
      }
      return undefined
    },
  })

  xrpc.procedure(ids.ComAtprotoServerResetPassword, {
    input: { encoding: 'application/json' },
    async handler({ input }) {
      const { token, password } = (input?.body ?? {}) as { token?: unknown; password?: unknown }
      if (typeof token !== 'string' || typeof password !== 'string') {
        throw new InvalidRequestError('Input must have token and password')
      }
      if (password.length < 8)
        throw new InvalidRequestError('Password must be at least 8 characters', 'InvalidPassword')
      const did = await ctx.storage.accounts.consumeEmailToken('reset_password', token.toUpperCase())
      if (!did) throw new InvalidRequestError('Token is invalid', 'InvalidToken')
      await ctx.storage.accounts.updatePassword(did, await hashPassword(password))
      await ctx.storage.accounts.deleteRefreshTokensForDid(did) // every session ends with the old password
      return undefined
    },
  })

  xrpc.procedure(ids.ComAtprotoServerRequestAccountDelete, {
    auth: auth.accessPrivileged,
    async handler({ auth: a }) {
      const account = await ctx.storage.accounts.getByDid(a.did)
      if (!account?.email) throw new InvalidRequestError('Account has no email address', 'InvalidRequest')
      const token = emailToken()
      await ctx.storage.accounts.createEmailToken({
        did: a.did,
        purpose: 'delete_account',
        token,
        expiresAt: new Date(Date.now() + TOKEN_TTL_MS),
      })
      await send(
        account.email,
        'Account deletion',
        `Your account deletion code for ${account.handle}: ${token}`,
      )
      return undefined
    },
  })

  xrpc.procedure(ids.ComAtprotoServerDeleteAccount, {
    input: { encoding: 'application/json' },
    async handler({ input }) {
      const { did, password, token } = (input?.body ?? {}) as Record<string, unknown>
      if (typeof did !== 'string' || typeof password !== 'string' || typeof token !== 'string') {
        throw new InvalidRequestError('Input must have did, password and token')
      }
      const { account } = await authenticate(ctx, did, password)
      if (account.did !== did) throw new InvalidRequestError('Invalid did or password', 'InvalidRequest')
      const owner = await ctx.storage.accounts.consumeEmailToken('delete_account', token.toUpperCase())
      if (owner !== did) throw new InvalidRequestError('Token is invalid', 'InvalidToken')
      await ctx.storage.repo.destroy(did)
      await ctx.storage.accounts.delete(did)
      await ctx.storage.sequencer.append([toSeqInsert(formatAccountEvent(did, false, 'deleted'))])
      ctx.sequencer.wake()
      return undefined
    },
  })
}
