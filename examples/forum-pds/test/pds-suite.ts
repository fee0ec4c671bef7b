// The PDS as the official client library sees it: every call goes through @atproto/api's AtpAgent.
import { AtpAgent } from '@atproto/api'
import { expect, it } from 'vitest'

const randomName = () => `u${Math.random().toString(36).slice(2, 10)}`

/** Register the PDS end-to-end tests against the app at `url()` (handles under `.test`). */
export function pdsSuite(url: () => string): void {
  const newAccount = async () => {
    const agent = new AtpAgent({ service: url() })
    const handle = `${randomName()}.test`
    const password = `pw-${randomName()}`
    const res = await agent.createAccount({ handle, password, email: `${handle}@example.com` })
    return { agent, handle, password, did: res.data.did }
  }

  it('creates an account, logs in, refreshes and reads the session', async () => {
    const { agent, handle, password, did } = await newAccount()
    expect(did).toMatch(/^did:(plc|web):/)
    const login = new AtpAgent({ service: url() })
    await login.login({ identifier: handle, password })
    expect(login.session?.did).toBe(did)
    const oldRefresh = login.session!.refreshJwt
    await login.sessionManager.refreshSession()
    expect(login.session!.refreshJwt).not.toBe(oldRefresh)
    // The rotated refresh token is dead: using it again fails.
    const reuse = await fetch(`${url()}/xrpc/com.atproto.server.refreshSession`, {
      method: 'POST',
      headers: { authorization: `Bearer ${oldRefresh}` },
    })
    const reuseBody = await reuse.clone().text()
    expect(reuse.status, reuseBody).toBe(400)
    expect(await reuse.json()).toMatchObject({ error: 'ExpiredToken' })
    const session = await login.com.atproto.server.getSession()
    expect(session.data).toMatchObject({ did, handle })
    await expect(
      new AtpAgent({ service: url() }).login({ identifier: handle, password: 'wrong' }),
    ).rejects.toMatchObject({ error: 'AuthenticationRequired' })
    expect(agent.session?.did).toBe(did)
  })

  it('writes, reads, lists and deletes records of several collections', async () => {
    const { agent, did } = await newAccount()
    const post = await agent.com.atproto.repo.createRecord({
      repo: did,
      collection: 'app.bsky.feed.post',
      record: { $type: 'app.bsky.feed.post', text: 'hello', createdAt: new Date().toISOString() },
    })
    const profile = await agent.com.atproto.repo.putRecord({
      repo: did,
      collection: 'app.bsky.actor.profile',
      rkey: 'self',
      record: { $type: 'app.bsky.actor.profile', displayName: 'Alice' },
    })
    expect(post.data.uri).toMatch(new RegExp(`^at://${did}/app.bsky.feed.post/`))
    expect(profile.data.uri).toBe(`at://${did}/app.bsky.actor.profile/self`)
    const rkey = post.data.uri.split('/').pop()!
    const got = await agent.com.atproto.repo.getRecord({ repo: did, collection: 'app.bsky.feed.post', rkey })
    expect(got.data).toMatchObject({ cid: post.data.cid, value: { text: 'hello' } })
    for (let i = 0; i < 5; i++) {
      await agent.com.atproto.repo.createRecord({
        repo: did,
        collection: 'app.bsky.feed.like',
        record: {
          $type: 'app.bsky.feed.like',
          subject: { uri: post.data.uri, cid: post.data.cid },
          createdAt: new Date().toISOString(),
        },
      })
    }
    const page1 = await agent.com.atproto.repo.listRecords({
      repo: did,
      collection: 'app.bsky.feed.like',
      limit: 3,
    })
    expect(page1.data.records).toHaveLength(3)
    const page2 = await agent.com.atproto.repo.listRecords({
      repo: did,
      collection: 'app.bsky.feed.like',
      limit: 3,
      cursor: page1.data.cursor,
    })
    expect(page2.data.records).toHaveLength(2)
    const uris = new Set([...page1.data.records, ...page2.data.records].map((r) => r.uri))
    expect(uris.size).toBe(5)
    const described = await agent.com.atproto.repo.describeRepo({ repo: did })
    expect(described.data.collections).toEqual(
      expect.arrayContaining(['app.bsky.feed.post', 'app.bsky.feed.like', 'app.bsky.actor.profile']),
    )
    await agent.com.atproto.repo.deleteRecord({ repo: did, collection: 'app.bsky.feed.post', rkey })
    await expect(
      agent.com.atproto.repo.getRecord({ repo: did, collection: 'app.bsky.feed.post', rkey }),
    ).rejects.toMatchObject({ error: 'RecordNotFound' })
  })

  it("refuses writes to someone else's repo and bad record keys", async () => {
    const alice = await newAccount()
    const bob = await newAccount()
    await expect(
      bob.agent.com.atproto.repo.createRecord({
        repo: alice.did,
        collection: 'app.bsky.feed.post',
        record: { $type: 'app.bsky.feed.post', text: 'x', createdAt: new Date().toISOString() },
      }),
    ).rejects.toMatchObject({ status: 403 })
    await expect(
      alice.agent.com.atproto.repo.putRecord({
        repo: alice.did,
        collection: 'app.bsky.feed.post',
        rkey: 'bad rkey',
        record: { $type: 'app.bsky.feed.post', text: 'x', createdAt: new Date().toISOString() },
      }),
    ).rejects.toMatchObject({ status: 400 })
  })

  it('changes a handle: the directory, resolution and the DID document follow', async () => {
    const { agent, did, handle } = await newAccount()
    const next = `${randomName()}.test`
    await agent.com.atproto.identity.updateHandle({ handle: next })
    const resolved = await agent.com.atproto.identity.resolveHandle({ handle: next })
    expect(resolved.data.did).toBe(did)
    await expect(agent.com.atproto.identity.resolveHandle({ handle })).rejects.toMatchObject({ status: 400 })
    const described = await agent.com.atproto.repo.describeRepo({ repo: did })
    expect((described.data.didDoc as { alsoKnownAs: string[] }).alsoKnownAs).toEqual([`at://${next}`])
    const other = await newAccount()
    await expect(other.agent.com.atproto.identity.updateHandle({ handle: next })).rejects.toMatchObject({
      error: 'HandleNotAvailable',
    })
    await expect(agent.com.atproto.identity.updateHandle({ handle: 'admin.test' })).rejects.toMatchObject({
      status: 400,
    })
  })

  it('uploads a blob, attaches it to a record and serves it back safely', async () => {
    const { agent, did } = await newAccount()
    // A tiny PNG (signature + IHDR): its bytes, not the declared type, decide nothing here.
    const png = new Uint8Array([
      137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0,
    ])
    const uploaded = await agent.uploadBlob(png, { encoding: 'image/png' })
    const blob = uploaded.data.blob
    expect(blob.mimeType).toBe('image/png')
    expect(blob.size).toBe(png.length)
    await agent.com.atproto.repo.putRecord({
      repo: did,
      collection: 'app.bsky.actor.profile',
      rkey: 'self',
      record: { $type: 'app.bsky.actor.profile', displayName: 'With avatar', avatar: blob },
    })
    const cid = blob.ref.toString()
    const res = await fetch(`${url()}/xrpc/com.atproto.sync.getBlob?did=${did}&cid=${cid}`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('image/png')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(png)
    const ranged = await fetch(`${url()}/xrpc/com.atproto.sync.getBlob?did=${did}&cid=${cid}`, {
      headers: { range: 'bytes=1-3' },
    })
    expect(ranged.status).toBe(206)
    expect(new Uint8Array(await ranged.arrayBuffer())).toEqual(png.slice(1, 4))
    const listed = await agent.com.atproto.sync.listBlobs({ did })
    expect(listed.data.cids).toEqual([cid])
    // A record pointing at a blob nobody uploaded is refused.
    await expect(
      agent.com.atproto.repo.putRecord({
        repo: did,
        collection: 'app.bsky.actor.profile',
        rkey: 'self',
        record: {
          $type: 'app.bsky.actor.profile',
          avatar: {
            $type: 'blob',
            ref: { $link: 'bafkreie5cvv4h45feadgeuwhbcutmh6t2ceseocckahdoe6uat64zmz454' },
            mimeType: 'image/png',
            size: 3,
          },
        },
      }),
    ).rejects.toMatchObject({ status: 400, error: 'BlobNotFound' })
  })

  it('validates records against their lexicons on write (validate flag, validationStatus, rkey rules)', async () => {
    const { agent, did } = await newAccount()
    const repo = agent.com.atproto.repo
    const createdAt = new Date().toISOString()
    const post = (fields: Record<string, unknown>) => ({ $type: 'app.bsky.feed.post', createdAt, ...fields })
    const head = async () => (await agent.com.atproto.sync.getLatestCommit({ did })).data
    const before = await head()

    // Refused, naming the field, and nothing changes.
    await expect(
      repo.createRecord({
        repo: did,
        collection: 'app.bsky.feed.post',
        record: post({ text: '🙂'.repeat(301) }),
      }),
    ).rejects.toMatchObject({
      status: 400,
      error: 'InvalidRequest',
      message: 'Record/text must not be longer than 300 graphemes',
    })
    const image = {
      $type: 'blob',
      ref: { $link: 'bafkreie5cvv4h45feadgeuwhbcutmh6t2ceseocckahdoe6uat64zmz454' },
      mimeType: 'image/png',
      size: 3,
    }
    const badEmbed = post({
      text: 'pic',
      embed: { $type: 'app.bsky.embed.images', images: [{ image, alt: 5 }] },
    })
    await expect(
      repo.createRecord({ repo: did, collection: 'app.bsky.feed.post', record: badEmbed }),
    ).rejects.toMatchObject({
      status: 400,
      message: 'Record/embed/images/0/alt must be a string',
    })
    await expect(
      repo.putRecord({
        repo: did,
        collection: 'app.bsky.actor.profile',
        rkey: 'self',
        record: { displayName: 7 },
      }),
    ).rejects.toMatchObject({ status: 400, message: 'Record/displayName must be a string' })
    await expect(
      repo.applyWrites({
        repo: did,
        writes: [
          {
            $type: 'com.atproto.repo.applyWrites#create',
            collection: 'app.bsky.feed.post',
            value: post({ text: 'ok' }),
          },
          {
            $type: 'com.atproto.repo.applyWrites#create',
            collection: 'app.bsky.feed.post',
            value: post({ text: 1 }),
          },
        ],
      }),
    ).rejects.toMatchObject({ status: 400, message: 'Record/text must be a string' })
    // Record keys follow the lexicon's key type: a profile is literal:self, a post a TID.
    await expect(
      repo.putRecord({ repo: did, collection: 'app.bsky.actor.profile', rkey: 'other', record: {} }),
    ).rejects.toMatchObject({ status: 400, message: 'Record key must be self, got other' })
    await expect(
      repo.createRecord({
        repo: did,
        collection: 'app.bsky.feed.post',
        rkey: 'not-a-tid',
        record: post({ text: 'x' }),
      }),
    ).rejects.toMatchObject({ status: 400, message: 'Record key not-a-tid must be a TID' })
    // validate: true needs a known lexicon.
    await expect(
      repo.createRecord({
        repo: did,
        collection: 'com.example.unknown.thing',
        validate: true,
        record: { a: 1 },
      }),
    ).rejects.toMatchObject({
      status: 400,
      error: 'InvalidRequest',
      message: 'Lexicon not found: com.example.unknown.thing',
    })
    expect(await head()).toEqual(before)

    // Accepted: valid, unknown (optimistic), and unvalidated writes say which they were.
    const valid = await repo.createRecord({
      repo: did,
      collection: 'app.bsky.feed.post',
      record: post({ text: 'hi' }),
    })
    expect(valid.data.validationStatus).toBe('valid')
    const unknown = await repo.createRecord({
      repo: did,
      collection: 'com.example.unknown.thing',
      record: { a: 1 },
    })
    expect(unknown.data.validationStatus).toBe('unknown')
    const skipped = await repo.createRecord({
      repo: did,
      collection: 'app.bsky.feed.post',
      validate: false,
      record: post({ text: '🙂'.repeat(301) }),
    })
    expect(skipped.data.validationStatus).toBeUndefined()
    const profile = await repo.createRecord({ repo: did, collection: 'app.bsky.actor.profile', record: {} })
    expect(profile.data).toMatchObject({
      uri: `at://${did}/app.bsky.actor.profile/self`,
      validationStatus: 'valid',
    })
    const batch = await repo.applyWrites({
      repo: did,
      writes: [
        {
          $type: 'com.atproto.repo.applyWrites#create',
          collection: 'app.bsky.feed.post',
          value: post({ text: 'a' }),
        },
        {
          $type: 'com.atproto.repo.applyWrites#create',
          collection: 'com.example.unknown.thing',
          value: { b: 2 },
        },
      ],
    })
    expect(batch.data.results?.map((r) => (r as { validationStatus?: string }).validationStatus)).toEqual([
      'valid',
      'unknown',
    ])
    expect((await head()).rev).not.toBe(before.rev)
  })

  it('validates XRPC params and inputs by their lexicons, naming the field', async () => {
    const { agent, did } = await newAccount()
    const res = await fetch(
      `${url()}/xrpc/com.atproto.repo.listRecords?repo=${did}&collection=app.bsky.feed.post&limit=1000`,
    )
    expect(res.status).toBe(400)
    expect(await res.json()).toEqual({
      error: 'InvalidRequest',
      message: 'limit can not be greater than 100',
    })
    await expect(
      agent.com.atproto.repo.createRecord({ repo: did, collection: 'not an nsid', record: {} }),
    ).rejects.toMatchObject({
      status: 400,
      error: 'InvalidRequest',
      message: 'Input/collection must be a valid nsid',
    })
    const raw = await fetch(`${url()}/xrpc/com.atproto.server.createSession`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ identifier: 'someone.test' }),
    })
    expect(raw.status).toBe(400)
    expect(await raw.json()).toEqual({
      error: 'InvalidRequest',
      message: 'Input must have the property "password"',
    })
  })
}
