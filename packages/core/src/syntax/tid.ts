/**
 * TID generation and parsing (tid.md): a 64-bit integer (top bit 0, 53 bits of microseconds since the
 * epoch, 10 bits of clock id) as 13 base32-sortable chars, so string order is time order.
 */
import { randomInt } from 'node:crypto'
import { InvalidTidError } from './errors.js'
import { isValidTid } from './identifiers.js'

const S32 = '234567abcdefghijklmnopqrstuvwxyz'
const S32_VALUE: Record<string, number> = Object.fromEntries([...S32].map((c, i) => [c, i]))
/** Largest clock id (10 bits). */
export const MAX_TID_CLOCK_ID = 1023

/** base32-sortable digits of a non-negative safe integer, left-padded to `len` chars. */
function s32(n: number, len: number): string {
  let out = ''
  for (let i = 0; i < len; i++) {
    out = S32[n % 32]! + out
    n = Math.floor(n / 32)
  }
  return out
}

/** A TID from its parts. @throws InvalidTidError when a part is out of range */
export function formatTid(timestampMicros: number, clockId: number): string {
  if (!Number.isSafeInteger(timestampMicros) || timestampMicros < 0)
    throw new InvalidTidError('TID timestamp must be a non-negative 53-bit integer')
  if (!Number.isInteger(clockId) || clockId < 0 || clockId > MAX_TID_CLOCK_ID)
    throw new InvalidTidError('TID clock id must be 0-1023')
  return s32(timestampMicros, 11) + s32(clockId, 2)
}

/** The parts of a TID. @throws InvalidTidError */
export function parseTid(tid: string): { timestampMicros: number; clockId: number } {
  if (!isValidTid(tid)) throw new InvalidTidError(`Invalid TID: ${JSON.stringify(String(tid).slice(0, 100))}`)
  let ts = 0
  for (let i = 0; i < 11; i++) ts = ts * 32 + S32_VALUE[tid[i]!]!
  // The first char may reach 'j' (the syntax allows it) which exceeds 53 bits: still a valid TID.
  return { timestampMicros: ts, clockId: S32_VALUE[tid[11]!]! * 32 + S32_VALUE[tid[12]!]! }
}

/** Options of {@link TidGenerator}. */
export interface TidGeneratorOptions {
  /** Clock id (0-1023); random by default. */
  clockId?: number
  /** The clock in milliseconds (default `Date.now`). */
  now?: () => number
}

/**
 * A TID source whose output strictly increases even when the clock stalls or goes backwards: each TID
 * takes the later of the clock and the previous timestamp + 1 µs.
 */
export class TidGenerator {
  readonly clockId: number
  readonly #now: () => number
  #last = 0

  constructor(opts: TidGeneratorOptions = {}) {
    this.clockId = opts.clockId ?? randomInt(MAX_TID_CLOCK_ID + 1)
    formatTid(0, this.clockId) // validates the clock id
    this.#now = opts.now ?? Date.now
  }

  /** The next TID; greater than `after` too when given (a commit's rev must exceed the previous rev). */
  next(after?: string | null): string {
    let micros = Math.max(Math.floor(this.#now() * 1000), this.#last + 1)
    // A malformed `after` (not a TID) cannot be ordered against: ignored rather than failing a write.
    if (after && isValidTid(after)) micros = Math.max(micros, parseTid(after).timestampMicros + 1)
    this.#last = micros
    return formatTid(micros, this.clockId)
  }
}

/** The process's generator: one random clock id per process. */
const processTids = new TidGenerator()

/** The next TID of this process (monotonic; greater than `after` when given). */
export function nextTid(after?: string | null): string {
  return processTids.next(after)
}

/** The timestamp (µs since the epoch) of a TID. @throws InvalidTidError */
export function tidTimestamp(tid: string): number {
  return parseTid(tid).timestampMicros
}
