import { describe, expect, it } from 'vitest'
import { assertScope, checkScope, parseScope, ScopePermissions } from './scopes.js'

describe('parseScope', () => {
  it('accepts the valid examples of permission.md', () => {
    for (const s of [
      'atproto',
      'transition:generic',
      'transition:email',
      'transition:chat.bsky',
      'identity:*',
      'identity:*?',
      'rpc?lxm=*&aud=did:web:api.example.com%23svc_appview',
      'blob?accept=video/*&accept=text/html',
      'blob:*/*',
      'repo:app.example.profile?action=create&action=update&action=delete',
      'repo?collection=app.example.profile&collection=app.example.post',
      'repo:*?action=delete',
      'rpc:app.example.moderation.createReport?aud=*',
      'account:email',
      'account:repo?action=manage',
      'include:app.example.authFull?aud=did:web:api.example.com%23svc_chat',
    ]) {
      expect(parseScope(s), s).not.toBeNull()
    }
    expect(parseScope('repo:app.example.profile?action=create')).toEqual({
      resource: 'repo',
      collection: ['app.example.profile'],
      action: ['create'],
    })
    expect(parseScope('rpc?lxm=*&aud=did:web:api.example.com%23svc_appview')).toEqual({
      resource: 'rpc',
      lxm: ['*'],
      aud: 'did:web:api.example.com#svc_appview',
    })
  })

  it('refuses the invalid examples and semantic errors', () => {
    for (const s of [
      'resource',
      'resource:positional?key=val',
      'resource:positional&thing?key=val',
      'service:did:web:com.example#type?key=val',
      'resource:',
      'resource:?',
      'resource:&',
      'resource?',
      'resource:positional?key=québec',
      'emoji:☺️',
      'repo:com.example.record?collection=com.example.other',
      'repo:com.example.*',
      'repo:app.example.post?action=read',
      'rpc:*?aud=*',
      'rpc:app.example.getFeed',
      'rpc:app.example.getFeed?aud=did:web:x.example',
      'account:*',
      'account:email?action=delete',
      'identity:did',
      'blob:video',
      'repo:app.example.post?foo=bar',
    ]) {
      expect(parseScope(s), s).toBeNull()
    }
  })
})

describe('checkScope', () => {
  const granular = new ScopePermissions(
    'atproto repo:app.example.post?action=create blob:image/* rpc:app.example.getFeed?aud=did:web:api.example%23svc account:email',
  )
  it('grants exactly what granular scopes say', () => {
    expect(granular.allows({ type: 'repo', collection: 'app.example.post', action: 'create' })).toBe(true)
    expect(granular.allows({ type: 'repo', collection: 'app.example.post', action: 'delete' })).toBe(false)
    expect(granular.allows({ type: 'repo', collection: 'app.example.like', action: 'create' })).toBe(false)
    expect(granular.allows({ type: 'blob', mime: 'image/png' })).toBe(true)
    expect(granular.allows({ type: 'blob', mime: 'video/mp4' })).toBe(false)
    expect(granular.allows({ type: 'rpc', lxm: 'app.example.getFeed', aud: 'did:web:api.example#svc' })).toBe(
      true,
    )
    expect(
      granular.allows({ type: 'rpc', lxm: 'app.example.getFeed', aud: 'did:web:other.example#svc' }),
    ).toBe(false)
    expect(granular.allows({ type: 'account', attr: 'email', action: 'read' })).toBe(true)
    expect(granular.allows({ type: 'account', attr: 'email', action: 'manage' })).toBe(false)
    expect(granular.allows({ type: 'identity', attr: 'handle' })).toBe(false)
  })
  it('maps the transitional scopes', () => {
    const generic = 'atproto transition:generic'
    expect(checkScope(generic, { type: 'repo', collection: 'any.thing.here', action: 'delete' })).toBe(true)
    expect(checkScope(generic, { type: 'blob', mime: 'video/mp4' })).toBe(true)
    expect(checkScope(generic, { type: 'rpc', lxm: 'app.bsky.feed.getTimeline', aud: 'did:web:x#y' })).toBe(
      true,
    )
    expect(checkScope(generic, { type: 'rpc', lxm: 'chat.bsky.convo.sendMessage', aud: 'did:web:x#y' })).toBe(
      false,
    )
    expect(
      checkScope(`${generic} transition:chat.bsky`, {
        type: 'rpc',
        lxm: 'chat.bsky.convo.sendMessage',
        aud: 'did:web:x#y',
      }),
    ).toBe(true)
    // chat.bsky does not work without generic.
    expect(
      checkScope('atproto transition:chat.bsky', {
        type: 'rpc',
        lxm: 'chat.bsky.convo.sendMessage',
        aud: 'did:web:x#y',
      }),
    ).toBe(false)
    expect(checkScope(generic, { type: 'account', attr: 'email', action: 'read' })).toBe(false)
    expect(checkScope('atproto transition:email', { type: 'account', attr: 'email', action: 'read' })).toBe(
      true,
    )
    expect(checkScope(generic, { type: 'identity', attr: 'handle' })).toBe(false)
  })
  it('grants nothing without atproto, and include: grants nothing until expanded', () => {
    expect(checkScope('transition:generic', { type: 'blob', mime: 'image/png' })).toBe(false)
    expect(
      checkScope('atproto include:app.example.authFull', {
        type: 'repo',
        collection: 'app.example.post',
        action: 'create',
      }),
    ).toBe(false)
  })
  it('assertScope throws a 403 InsufficientScope naming the permission', () => {
    expect(() =>
      assertScope('atproto', { type: 'repo', collection: 'app.example.post', action: 'create' }),
    ).toThrow(
      expect.objectContaining({
        status: 403,
        error: 'InsufficientScope',
        message: expect.stringContaining('repo:app.example.post'),
      }),
    )
  })
})
