/** Small helpers shared by the PDS's XRPC handlers. */
import type { AccountRow } from '../../storage/types.js'
import { InvalidRequestError } from '../../xrpc/xrpc-error.js'
import type { PdsContext } from '../context.js'

/** A JSON handler output. */
export const json = (body: unknown) => ({ encoding: 'application/json', body })

/** The JSON object body of a procedure (400 when it is anything else). */
export function bodyOf(input: { body: unknown } | undefined): Record<string, unknown> {
  const body = input?.body
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidRequestError('Request body must be a JSON object')
  }
  return body as Record<string, unknown>
}

/** An account whose repo is served: it exists and is neither taken down nor deactivated (sync endpoints). */
export async function hostedAccount(ctx: PdsContext, did: unknown): Promise<AccountRow> {
  if (typeof did !== 'string') throw new InvalidRequestError('did must be a DID')
  const account = await ctx.storage.accounts.getByDid(did)
  if (!account || account.status === 'deleted')
    throw new InvalidRequestError(`Could not find repo for DID: ${did}`, 'RepoNotFound')
  if (account.status === 'takendown')
    throw new InvalidRequestError(`Repo has been takendown: ${did}`, 'RepoTakendown')
  if (account.status === 'deactivated')
    throw new InvalidRequestError(`Repo has been deactivated: ${did}`, 'RepoDeactivated')
  return account
}
