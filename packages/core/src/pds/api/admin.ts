/**
 * com.atproto.admin.*: the operator's API, behind HTTP Basic `admin:<adminPassword>` (as the reference
 * PDS). Without `adminPassword` every admin call is refused. Takedowns of accounts, records and blobs,
 * account lookups and updates, deletion, operator email, and invite codes when the storage has them.
 */
import { timingSafeEqual } from 'node:crypto'
import { ids } from '../../lexicons/nsid.js'
import type { AccountRow } from '../../storage/types.js'
import type { XrpcServer } from '../../xrpc/server.js'
import type { AuthVerifier } from '../../xrpc/types.js'
import { AuthRequiredError, InvalidRequestError, MethodNotImplementedError } from '../../xrpc/xrpc-error.js'
import {
  deleteAccount,
  updateAccountEmail,
  updateAccountHandle,
  updateAccountPassword,
} from '../account-ops.js'
import { findAccount } from '../accounts.js'
import type { PdsContext } from '../context.js'
import { paramsOf } from '../lexicon-params.js'
import {
  getSubjectStatus,
  parseRecordUri,
  parseSubject,
  type StatusAttr,
  subjectView,
  type TakedownSubject,
  updateSubjectStatus,
} from '../takedown.js'
import { bodyOf, json } from './util.js'

/** The caller of an admin endpoint. */
export interface AdminAuth {
  admin: true
}

/** HTTP Basic `admin:<password>`, compared in constant time. */
export function adminVerifier(password: string | undefined): AuthVerifier<AdminAuth> {
  const expected = password ? Buffer.from(`admin:${password}`) : null
  return ({ request }) => {
    const header = request.headers.get('authorization') ?? ''
    const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header.trim())
    if (!m) throw new AuthRequiredError('Admin credentials required (HTTP Basic)', 'AuthenticationRequired')
    const given = Buffer.from(m[1]!, 'base64')
    if (!expected || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new AuthRequiredError('Invalid admin credentials', 'AuthenticationRequired')
    }
    return { admin: true }
  }
}

function str(body: Record<string, unknown>, key: string): string {
  const v = body[key]
  if (typeof v !== 'string' || v === '') throw new InvalidRequestError(`Input/${key} must be a string`)
  return v
}

function statusAttr(value: unknown, field: string): StatusAttr | undefined {
  if (value === undefined || value === null) return undefined
  const v = value as Record<string, unknown>
  if (typeof v !== 'object' || typeof v.applied !== 'boolean') {
    throw new InvalidRequestError(`Input/${field}/applied must be a boolean`)
  }
  if (v.ref !== undefined && typeof v.ref !== 'string')
    throw new InvalidRequestError(`Input/${field}/ref must be a string`)
  return { applied: v.applied, ref: v.ref as string | undefined }
}

/** `com.atproto.admin.defs#accountView` of an account. */
export function accountView(account: AccountRow): Record<string, unknown> {
  return {
    did: account.did,
    handle: account.handle,
    email: account.email ?? undefined,
    indexedAt: account.createdAt.toISOString(),
    emailConfirmedAt: account.emailConfirmedAt?.toISOString(),
    deactivatedAt: account.status === 'deactivated' ? account.deactivatedAt?.toISOString() : undefined,
  }
}

/** Register com.atproto.admin.* on the XRPC server. */
export function registerAdminMethods(xrpc: XrpcServer, ctx: PdsContext): void {
  const auth = adminVerifier(ctx.options.adminPassword)

  xrpc.query(ids.ComAtprotoAdminGetAccountInfo, {
    params: paramsOf(ids.ComAtprotoAdminGetAccountInfo),
    auth,
    async handler({ params }) {
      const account = await ctx.storage.accounts.getByDid(String(params.did))
      if (!account || account.status === 'deleted')
        throw new InvalidRequestError('Account not found', 'NotFound')
      return json(accountView(account))
    },
  })

  xrpc.query(ids.ComAtprotoAdminGetAccountInfos, {
    params: paramsOf(ids.ComAtprotoAdminGetAccountInfos),
    auth,
    async handler({ params }) {
      const infos = []
      for (const did of params.dids as string[]) {
        const account = await ctx.storage.accounts.getByDid(did)
        if (account && account.status !== 'deleted') infos.push(accountView(account))
      }
      return json({ infos })
    },
  })

  xrpc.query(ids.ComAtprotoAdminSearchAccounts, {
    params: paramsOf(ids.ComAtprotoAdminSearchAccounts),
    auth,
    async handler({ params }) {
      const limit = params.limit as number
      // Exact email lookup (the reference matches a prefix); otherwise every account, paged by DID.
      if (typeof params.email === 'string' && params.email) {
        const account = await ctx.storage.accounts.getByEmail(params.email.toLowerCase())
        return json({ accounts: account && account.status !== 'deleted' ? [accountView(account)] : [] })
      }
      const rows = await ctx.storage.accounts.list({ limit, cursor: params.cursor as string | undefined })
      return json({
        accounts: rows.filter((a) => a.status !== 'deleted').map(accountView),
        cursor: rows.length === limit ? rows.at(-1)!.did : undefined,
      })
    },
  })

  xrpc.procedure(ids.ComAtprotoAdminUpdateSubjectStatus, {
    input: { encoding: 'application/json' },
    auth,
    async handler({ input }) {
      const body = bodyOf(input)
      const subject = parseSubject(body.subject)
      const takedown = statusAttr(body.takedown, 'takedown')
      const deactivated = statusAttr(body.deactivated, 'deactivated')
      await updateSubjectStatus(ctx, subject, { takedown, deactivated })
      const status = await getSubjectStatus(ctx, subject)
      return json({ subject: subjectView(subject), takedown: status.takedown })
    },
  })

  xrpc.query(ids.ComAtprotoAdminGetSubjectStatus, {
    params: paramsOf(ids.ComAtprotoAdminGetSubjectStatus),
    auth,
    async handler({ params }) {
      let subject: TakedownSubject
      if (typeof params.uri === 'string') {
        const { did, uri } = parseRecordUri(params.uri)
        const [, , , collection, rkey] = uri.split('/')
        const row = await ctx.storage.repo.read(did, (r) => r.getRecord(collection!, rkey!))
        subject = { kind: 'record', did, uri, cid: row?.cid.toString() ?? '' }
      } else if (typeof params.blob === 'string') {
        if (typeof params.did !== 'string') throw new InvalidRequestError('did is required with blob')
        subject = parseSubject({ did: params.did, cid: params.blob })
      } else if (typeof params.did === 'string') {
        subject = parseSubject({ did: params.did })
      } else {
        throw new InvalidRequestError('Give did, uri or did and blob')
      }
      const status = await getSubjectStatus(ctx, subject)
      const view = subjectView(subject)
      if (subject.kind === 'record' && !subject.cid) delete view.cid
      return json({ subject: view, ...status })
    },
  })

  xrpc.procedure(ids.ComAtprotoAdminUpdateAccountHandle, {
    input: { encoding: 'application/json' },
    auth,
    async handler({ input }) {
      const body = bodyOf(input)
      await updateAccountHandle(ctx, str(body, 'did'), str(body, 'handle'))
      return undefined
    },
  })

  xrpc.procedure(ids.ComAtprotoAdminUpdateAccountEmail, {
    input: { encoding: 'application/json' },
    auth,
    async handler({ input }) {
      const body = bodyOf(input)
      const account = await findAccount(ctx, str(body, 'account'))
      if (!account || account.status === 'deleted')
        throw new InvalidRequestError('Account not found', 'NotFound')
      await updateAccountEmail(ctx, account.did, str(body, 'email'))
      return undefined
    },
  })

  xrpc.procedure(ids.ComAtprotoAdminUpdateAccountPassword, {
    input: { encoding: 'application/json' },
    auth,
    async handler({ input }) {
      const body = bodyOf(input)
      await updateAccountPassword(ctx, str(body, 'did'), str(body, 'password'))
      return undefined
    },
  })

  xrpc.procedure(ids.ComAtprotoAdminDeleteAccount, {
    input: { encoding: 'application/json' },
    auth,
    async handler({ input }) {
      await deleteAccount(ctx, str(bodyOf(input), 'did'))
      return undefined
    },
  })

  xrpc.procedure(ids.ComAtprotoAdminSendEmail, {
    input: { encoding: 'application/json' },
    auth,
    async handler({ input }) {
      const body = bodyOf(input)
      const account = await ctx.storage.accounts.getByDid(str(body, 'recipientDid'))
      if (!account || account.status === 'deleted')
        throw new InvalidRequestError('Account not found', 'NotFound')
      if (!account.email) throw new InvalidRequestError('Account has no email address')
      const subject =
        typeof body.subject === 'string' && body.subject ? body.subject : 'Message from the server'
      const text = str(body, 'content')
      if (ctx.options.email) await ctx.options.email.send({ to: account.email, subject, text })
      else console.info(`[pds email] to ${account.email}: ${subject}\n${text}`)
      return json({ sent: true })
    },
  })

  xrpc.procedure(ids.ComAtprotoAdminDisableInviteCodes, {
    input: { encoding: 'application/json' },
    auth,
    async handler({ input }) {
      const body = bodyOf(input)
      if (!ctx.storage.inviteCodes) throw new MethodNotImplementedError('This storage has no invite codes')
      const list = (key: string) => {
        const v = body[key]
        if (v === undefined) return undefined
        if (!Array.isArray(v) || v.some((s) => typeof s !== 'string'))
          throw new InvalidRequestError(`Input/${key} must be an array of strings`)
        return v as string[]
      }
      const accounts = list('accounts')
      if (accounts?.includes('admin')) throw new InvalidRequestError('cannot disable admin invite codes')
      await ctx.storage.inviteCodes.disable({ codes: list('codes'), accounts })
      return undefined
    },
  })
}
