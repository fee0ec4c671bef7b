import { builtinLexicons } from '../lexicon/builtin.js'
import type { Lexicons } from '../lexicon/lexicons.js'
import { PlcClient } from '../plc/client.js'
import type { BlobStore, StorageAdapter } from '../storage/types.js'
import type { PdsOptions } from './config.js'
import { HandlePolicy } from './handle-policy.js'
import { Sequencer } from './sequencer.js'

/** Everything the PDS's XRPC handlers share. Built once per app in `pds()` setup. */
export interface PdsContext {
  readonly options: PdsOptions
  readonly storage: StorageAdapter
  readonly blobstore: BlobStore
  readonly publicUrl: string
  readonly serviceDid: string
  readonly jwtSecret: Uint8Array
  readonly handles: HandlePolicy
  readonly plc: PlcClient
  readonly sequencer: Sequencer
  /** Lexicons records are validated against on write (the app's set). */
  readonly lexicons: Lexicons
}

/** Build the PDS context for an app served at `publicUrl`. */
export function createPdsContext(
  options: PdsOptions,
  publicUrl: string,
  lexicons: Lexicons = builtinLexicons(),
): PdsContext {
  const host = new URL(publicUrl).host
  return {
    options,
    storage: options.storage,
    blobstore: options.blobstore,
    publicUrl,
    serviceDid: options.serviceDid ?? `did:web:${host.replace(':', '%3A')}`,
    jwtSecret:
      typeof options.jwtSecret === 'string' ? new TextEncoder().encode(options.jwtSecret) : options.jwtSecret,
    handles: new HandlePolicy({ domains: options.handleDomains, reserved: options.reservedHandles }),
    plc: new PlcClient(options.plcUrl, { fetch: options.fetch }),
    sequencer: new Sequencer(options.storage.sequencer),
    lexicons,
  }
}
