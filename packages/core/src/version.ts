import pkg from '../package.json' with { type: 'json' }

/** The version of @next-atproto/core, reported by `GET /xrpc/_health`. */
export const VERSION: string = pkg.version
