/**
 * `@next-atproto/core/node`: Node `http` and Express glue (request listener / middleware and WebSocket
 * upgrades). Imports only `node:*` and `ws`.
 * @module
 */
export * from './client-error.js'
export * from './node-websocket.js'
export * from './to-node-handler.js'
