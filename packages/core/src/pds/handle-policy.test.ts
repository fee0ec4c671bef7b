import { describe, expect, it } from 'vitest'
import { HandlePolicy } from './handle-policy.js'

const policy = new HandlePolicy({ domains: ['.forum.test', '.Example.org', 'community.test'] })
const errorOf = (handle: string) => {
  try {
    policy.check(handle)
    return null
  } catch (err) {
    return (err as { error?: string }).error
  }
}

describe('HandlePolicy', () => {
  it('normalizes and accepts one label under each configured domain', () => {
    expect(policy.check('Alice.Forum.Test')).toEqual({
      handle: 'alice.forum.test',
      kind: 'service',
      domain: '.forum.test',
    })
    expect(policy.check('bob.example.org').domain).toBe('.example.org')
    expect(policy.check('carol.community.test').domain).toBe('community.test')
  })

  it('accepts a bare domain as a handle only when configured without the leading dot', () => {
    expect(policy.check('community.test')).toMatchObject({ kind: 'service' })
    expect(errorOf('forum.test')).toBe('InvalidHandle')
  })

  it('refuses nested labels, bad lengths and reserved names', () => {
    expect(errorOf('a.b.forum.test')).toBe('InvalidHandle')
    expect(errorOf('ab.forum.test')).toBe('InvalidHandle')
    expect(errorOf(`${'x'.repeat(19)}.forum.test`)).toBe('InvalidHandle')
    expect(errorOf('admin.forum.test')).toBe('HandleNotAvailable')
    expect(errorOf('-bad.forum.test')).toBe('InvalidHandle')
  })

  it('classifies handles outside our domains as external', () => {
    expect(policy.check('alice.bsky.social')).toEqual({ handle: 'alice.bsky.social', kind: 'external' })
    expect(errorOf('not a handle')).toBe('InvalidHandle')
  })
})
