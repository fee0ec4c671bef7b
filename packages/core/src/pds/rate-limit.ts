/** Rate limits of the PDS, counted through the storage adapter (so every process shares them). */
import type { RateLimiter } from '../xrpc/types.js'
import { RateLimitExceededError, type RateLimitStatus } from '../xrpc/xrpc-error.js'
import type { PdsContext } from './context.js'

/** Defaults: 30 sign-ins per 5 minutes per client address, 5,000 writes per hour per account. */
const DEFAULTS = {
  createSession: { limit: 30, windowMs: 5 * 60_000 },
  writes: { limit: 5000, windowMs: 60 * 60_000 },
}

/**
 * A fixed-window limiter for one bucket; `keyOf` picks who is counted (client IP, account DID).
 * Undefined when rate limits are off.
 */
export function rateLimiter(
  ctx: PdsContext,
  bucket: keyof typeof DEFAULTS,
  keyOf: (rc: Parameters<RateLimiter>[0]) => string | undefined,
): RateLimiter | undefined {
  const limits = ctx.options.rateLimits
  if (limits === false) return undefined
  const { limit, windowMs } = limits?.[bucket] ?? DEFAULTS[bucket]
  return async (rc) => {
    const who = keyOf(rc)
    if (who === undefined) return undefined
    const { count, resetAt } = await ctx.storage.rateLimits.hit(`${bucket}:${who}`, windowMs)
    const status: RateLimitStatus = {
      limit,
      remaining: Math.max(0, limit - count),
      resetAt: resetAt.getTime(),
      windowSeconds: Math.round(windowMs / 1000),
    }
    if (count > limit) throw new RateLimitExceededError(status)
    return status
  }
}

/** Counted per client address. */
export const byAddress = (rc: Parameters<RateLimiter>[0]) => rc.connection.remoteAddress ?? 'unknown'
/** Counted per authenticated account. */
export const byAccount = (rc: Parameters<RateLimiter>[0]) => (rc.auth as { did?: string } | null)?.did
