/**
 * @next-atproto/core: the AT Protocol, framework- and storage-agnostic.
 * @packageDocumentation
 */
export * from './data/cid.js'
export * from './data/cbor.js'
