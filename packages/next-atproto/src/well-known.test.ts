// The proxy step answers well-known documents by the Host the client asked for.
import { AtpAgent } from '@atproto/api'
import { MemoryBlobStore, memoryAdapter } from '@next-atproto/adapters'
import { AccountSigningKey, createAtproto, pds, plcService } from '@next-atproto/core'
import { beforeAll, describe, expect, it } from 'vitest'
import { atprotoWellKnown } from './well-known.js'

const publicUrl = 'http://community.test'
const storage = memoryAdapter()
const app = createAtproto({
  publicUrl,
  services: [
    plcService({ store: storage.plc! }),
    pds({
      storage,
      blobstore: new MemoryBlobStore(),
      jwtSecret: 'x'.repeat(32),
      handleDomains: ['.one.test', 'two.test'],
      plcUrl: `${publicUrl}/plc`,
      plcRotationKey: AccountSigningKey.generate(),
      fetch: (input, init) => app.fetch(new Request(input as string, init)),
    }),
  ],
})
const appFetch = (input: RequestInfo | URL, init?: RequestInit) =>
  app.fetch(new Request(input as string, init))
let alice = ''
let bare = ''
beforeAll(async () => {
  const agent = () => new AtpAgent({ service: publicUrl, fetch: appFetch })
  alice = (await agent().createAccount({ handle: 'alice.one.test', password: 'password-1' })).data.did
  bare = (await agent().createAccount({ handle: 'two.test', password: 'password-1' })).data.did
})

const get = (host: string, path = '/.well-known/atproto-did', headers: Record<string, string> = {}) =>
  new Request(`http://127.0.0.1:3000${path}`, { headers: { host, ...headers } })

describe('atprotoWellKnown', () => {
  it('answers atproto-did by Host, subdomain or bare domain, and passes other paths on', async () => {
    const step = atprotoWellKnown(app)
    expect(await (await step(get('alice.one.test')))!.text()).toBe(`${alice}\n`)
    expect(await (await step(get('two.test:443')))!.text()).toBe(`${bare}\n`)
    expect((await step(get('bob.one.test')))!.status).toBe(404)
    expect(await step(get('alice.one.test', '/about'))).toBeUndefined()
    const doc = await (await step(get('community.test', '/.well-known/did.json')))!.json()
    expect(doc).toMatchObject({ id: 'did:web:community.test' })
  })

  it('reads X-Forwarded-Host only when told to trust it', async () => {
    const forwarded = get('127.0.0.1:3000', '/.well-known/atproto-did', {
      'x-forwarded-host': 'alice.one.test',
    })
    expect((await atprotoWellKnown(app)(forwarded))!.status).toBe(404)
    const trusted = atprotoWellKnown(app, { trustForwardedHost: true })
    expect(await (await trusted(forwarded.clone()))!.text()).toBe(`${alice}\n`)
    expect((await trusted(get('bad host/x')))!.status).toBeLessThan(500)
  })
})
