/**
 * @next-atproto/adapters: storage for @next-atproto/core.
 * @packageDocumentation
 */
export { memoryAdapter } from './memory/index.js'
