// Every case of the interop data-model fixtures: JSON -> DAG-CBOR bytes -> CID must match exactly, and
// JSON documents are accepted or refused as the fixtures say.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { decodeCbor, encodeCbor } from '../../src/data/cbor.js'
import { cidForBytes } from '../../src/data/cid.js'
import { InvalidJsonDataError, ipldToJson, jsonDocumentToIpld } from '../../src/data/json.js'

const load = (name: string) =>
  JSON.parse(readFileSync(new URL(`../interop/data-model/${name}`, import.meta.url), 'utf8')) as Array<
    Record<string, any>
  >

describe('interop data-model fixtures', () => {
  it.each(load('data-model-fixtures.json').map((f, i) => [i, f]))('fixture %i: bytes and CID', (_i, f) => {
    const ipld = jsonDocumentToIpld(f.json)
    const bytes = encodeCbor(ipld)
    expect(Buffer.from(bytes).toString('base64').replace(/=+$/, '')).toBe(f.cbor_base64.replace(/=+$/, ''))
    expect(cidForBytes(bytes).toString()).toBe(f.cid)
    // And back: CBOR -> IPLD -> JSON gives the same JSON.
    expect(ipldToJson(decodeCbor(bytes))).toEqual(f.json)
  })

  it.each(load('data-model-valid.json').map((f) => [f.note, f]))('valid: %s', (_note, f) => {
    expect(() => encodeCbor(jsonDocumentToIpld(f.json))).not.toThrow()
  })

  it.each(load('data-model-invalid.json').map((f) => [f.note, f]))('invalid: %s', (_note, f) => {
    expect(() => jsonDocumentToIpld(f.json)).toThrow(InvalidJsonDataError)
  })
})
