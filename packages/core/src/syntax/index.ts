/**
 * Syntax of atproto identifiers and string formats, with typed errors.
 * @module
 */
export * from './errors.js'
export * from './formats.js'
export * from './identifiers.js'
export * from './tid.js'
