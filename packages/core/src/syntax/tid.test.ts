import { describe, expect, it } from 'vitest'
import { InvalidTidError } from './errors.js'
import { isValidTid } from './identifiers.js'
import { formatTid, MAX_TID_CLOCK_ID, nextTid, parseTid, TidGenerator, tidTimestamp } from './tid.js'

describe('TIDs', () => {
  it('the process generator is strictly increasing and valid', () => {
    let prev = nextTid()
    const clockId = parseTid(prev).clockId
    for (let i = 0; i < 5000; i++) {
      const t = nextTid()
      expect(isValidTid(t)).toBe(true)
      expect(t > prev).toBe(true)
      expect(parseTid(t).clockId).toBe(clockId)
      prev = t
    }
    const ts = tidTimestamp(prev)
    expect(Math.abs(ts / 1000 - Date.now())).toBeLessThan(60_000)
  })

  it('stays monotonic when the clock stalls or goes backwards', () => {
    let clock = 1_700_000_000_000
    const gen = new TidGenerator({ clockId: 7, now: () => clock })
    const out: string[] = []
    for (const step of [0, 0, 5, -1000, -3_600_000, 0, 1, 7_200_000]) {
      clock += step
      out.push(gen.next())
    }
    expect([...out].sort()).toEqual(out)
    expect(new Set(out).size).toBe(out.length)
    const micros = out.map(tidTimestamp)
    for (let i = 1; i < micros.length; i++) expect(micros[i]!).toBeGreaterThan(micros[i - 1]!)
    expect(out.every((t) => parseTid(t).clockId === 7)).toBe(true)
    // Once the clock is ahead of the last TID again, TIDs follow the clock.
    expect(micros.at(-1)).toBe(clock * 1000)
    expect(micros[4]).toBe(micros[3]! + 1)
  })

  it('exceeds a given previous TID, even one from the future', () => {
    const gen = new TidGenerator({ now: () => 1_000 })
    const future = formatTid(9_000_000_000_000_000, 3)
    const t = gen.next(future)
    expect(t > future).toBe(true)
    expect(tidTimestamp(t)).toBe(9_000_000_000_000_001)
    expect(gen.next('not-a-tid') > t).toBe(true)
  })

  it('picks a random 10-bit clock id per generator', () => {
    const ids = new Set(Array.from({ length: 64 }, () => new TidGenerator().clockId))
    expect(ids.size).toBeGreaterThan(40)
    for (const id of ids) expect(id >= 0 && id <= MAX_TID_CLOCK_ID).toBe(true)
  })

  it('formats and parses the spec examples and bounds', () => {
    expect(formatTid(0, 0)).toBe('2222222222222')
    for (const t of ['3jzfcijpj2z2a', '7777777777777', '3zzzzzzzzzzzz', '2222222222222']) {
      const { timestampMicros, clockId } = parseTid(t)
      expect(formatTid(timestampMicros, clockId)).toBe(t)
    }
    // The spec's example is from 2023.
    expect(new Date(tidTimestamp('3jzfcijpj2z2a') / 1000).getUTCFullYear()).toBe(2023)
    expect(parseTid('2222222222232').clockId).toBe(32)
    const max = formatTid(Number.MAX_SAFE_INTEGER, MAX_TID_CLOCK_ID)
    expect(isValidTid(max)).toBe(true)
    expect(parseTid(max)).toEqual({ timestampMicros: Number.MAX_SAFE_INTEGER, clockId: MAX_TID_CLOCK_ID })
    for (const bad of ['3jzfcijpj2z2', '3jzfcijpj2z2aa', 'kjzfcijpj2z2a', '3jzf-ijpj2z2a', '3JZFCIJPJ2Z2A']) {
      expect(() => parseTid(bad), bad).toThrow(InvalidTidError)
    }
    expect(() => formatTid(-1, 0)).toThrow(InvalidTidError)
    expect(() => formatTid(0, 1024)).toThrow(InvalidTidError)
    expect(() => new TidGenerator({ clockId: 2000 })).toThrow(InvalidTidError)
  })
})
