/**
 * @next-atproto/core: the AT Protocol, framework- and storage-agnostic.
 * @packageDocumentation
 */
export * from './atproto.js'
export * from './data/cbor.js'
export * from './data/cid.js'
export * from './data/json.js'
export * from './identity/index.js'
// Both identity and syntax define an InvalidHandleError; the package root exports the identity one (a
// handle that cannot be resolved); the syntax one is an InvalidSyntaxError, as every syntax error.
export { InvalidHandleError } from './identity/index.js'
export * from './lexicon/index.js'
export * from './lexicons/index.js'
export * from './oauth/index.js'
export * from './pds/index.js'
export * from './plc/index.js'
export * from './repo/index.js'
export * from './storage/index.js'
export * from './syntax/index.js'
export { VERSION } from './version.js'
export * from './xrpc/index.js'
