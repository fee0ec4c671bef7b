/**
 * XRPC server on Web Request/Response: router, errors, auth verifiers, proxying, event-stream frames and
 * subscriptions.
 * @module
 */

export * from './auth.js'
export * from './body.js'
export * from './cors.js'
export * from './frames.js'
export * from './lex-json.js'
export * from './nsid-path.js'
export * from './params.js'
export * from './proxy.js'
export * from './server.js'
export * from './subscription.js'
export * from './types.js'
export * from './websocket.js'
export * from './xrpc-error.js'
