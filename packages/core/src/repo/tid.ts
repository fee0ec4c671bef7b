const S32 = '234567abcdefghijklmnopqrstuvwxyz'

let lastMicros = 0
const clockId = Math.floor(Math.random() * 32)

/** base32-sortable encoding of a non-negative integer, left-padded to `len` chars. */
function s32(n: number, len: number): string {
  let out = ''
  let v = BigInt(n)
  for (let i = 0; i < len; i++) {
    out = S32[Number(v & 31n)] + out
    v >>= 5n
  }
  return out
}

/**
 * A TID for a commit `rev`: microseconds since the epoch (strictly increasing within the process)
 * and a clock id, 13 base32-sortable chars. Greater than `after` when given, so revs always increase.
 * @NOTE local to the repo module until the syntax module's TID lands; the format is the same.
 */
export function nextRev(after?: string | null): string {
  let micros = Math.max(Date.now() * 1000, lastMicros + 1)
  if (after) micros = Math.max(micros, revTimestamp(after) + 1)
  lastMicros = micros
  return s32(micros, 11) + s32(clockId, 2)
}

/** The timestamp (µs) of a TID. */
export function revTimestamp(tid: string): number {
  let v = 0n
  for (const ch of tid.slice(0, 11)) v = (v << 5n) | BigInt(Math.max(0, S32.indexOf(ch)))
  return Number(v)
}
