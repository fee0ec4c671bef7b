import type { AtprotoService } from '../atproto.js'
import { createPlcDirectory, type PlcDirectoryOptions } from './directory.js'

/** Options of {@link plcService}. */
export interface PlcServiceOptions extends PlcDirectoryOptions {
  /** Path the directory is served under (default `/plc`): `GET /plc/{did}` returns the DID document. */
  path?: string
}

/**
 * Mount a PLC directory in the app, for tests, private networks and `npm run dev`. Production apps point
 * their PDS at the public directory instead.
 */
export function plcService(options: PlcServiceOptions): AtprotoService {
  const prefix = (options.path ?? '/plc').replace(/\/+$/, '')
  const directory = createPlcDirectory(options)
  return {
    name: 'plc',
    setup(ctx) {
      ctx.route(`${prefix}/*`, async (request) => {
        // The directory speaks the plc.directory API at its root: strip our mount path. Bodies are small
        // signed operations (the directory caps them), so buffering them here is fine.
        const url = new URL(request.url)
        url.pathname = url.pathname.slice(prefix.length) || '/'
        const hasBody = request.method !== 'GET' && request.method !== 'HEAD'
        return directory.fetch(
          new Request(url, {
            method: request.method,
            headers: request.headers,
            body: hasBody ? await request.arrayBuffer() : undefined,
          }),
        )
      })
    },
  }
}
