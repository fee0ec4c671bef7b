import { Secp256k1Keypair } from '@atproto/crypto'
import { describe, expect, it } from 'vitest'
import { createAtproto } from '../atproto.js'
import { PlcClient } from './client.js'
import { createGenesisOp } from './operations.js'
import { plcService } from './service.js'
import { MemoryPlcStore } from './store.js'

describe('plcService', () => {
  it('serves the PLC directory under /plc of the app', async () => {
    const app = createAtproto({ services: [plcService({ store: new MemoryPlcStore() })] })
    const client = new PlcClient('http://app.test/plc', {
      fetch: (input, init) => app.fetch(new Request(input, init)),
    })
    const rotation = await Secp256k1Keypair.create()
    const signing = await Secp256k1Keypair.create()
    const { op, did } = await createGenesisOp({
      signingKey: signing.did(),
      handle: 'alice.test',
      pds: 'https://pds.test',
      rotationKeys: [rotation.did()],
      signer: rotation,
    })
    await client.sendOperation(did, op)
    const doc = (await client.getDocument(did)) as { id: string; alsoKnownAs: string[] }
    expect(doc.id).toBe(did)
    expect(doc.alsoKnownAs).toEqual(['at://alice.test'])
    expect(app.owns('/plc/did:plc:abc')).toBe(true)
    expect(app.owns('/plcx')).toBe(false)
    const missing = await app.fetch(new Request('http://app.test/plc/did:plc:aaaaaaaaaaaaaaaaaaaaaaaa'))
    expect(missing.status).toBe(404)
  })
})
