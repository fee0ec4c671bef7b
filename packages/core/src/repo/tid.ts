/** Commit revs are TIDs: the syntax module generates them. */
import { nextTid, tidTimestamp } from '../syntax/tid.js'

/** A TID for a commit `rev`, greater than `after` when given, so revs always increase. */
export const nextRev: (after?: string | null) => string = nextTid

/** The timestamp (µs) of a TID. @throws InvalidTidError */
export const revTimestamp: (tid: string) => number = tidTimestamp
