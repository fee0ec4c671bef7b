/**
 * `next-atproto/node`: Express and plain Node `http` mounts. The glue itself lives in
 * `@next-atproto/core/node` (it needs only `node:*` and `ws`); this re-export keeps one import path for
 * host apps.
 *
 * ```ts
 * app.use(toNodeHandler(atproto))            // before express.json(): blob and CAR bodies stream raw
 * createNodeWebSocket(atproto).injectWebSocket(server) // also installs the clientError answer
 * installClientErrorHandler(server)                     // without WebSockets: XRPC JSON for malformed requests
 * ```
 * @module
 */
export {
  createNodeWebSocket,
  installClientErrorHandler,
  type NodeHandler,
  type NodeHandlerOptions,
  type NodeWebSocket,
  toNodeHandler,
  xrpcClientErrorListener,
} from '@next-atproto/core/node'
