/**
 * Blog posts (dev.nextatproto.blog.post records) in the signed-in user's own repo. Until the AppView
 * indexes the network from the firehose (a later issue), listings read the author's repo directly
 * with com.atproto.repo.listRecords.
 */
import type { OAuthSession } from '@next-atproto/core'

export const POST_COLLECTION = 'dev.nextatproto.blog.post'

/** A post as the pages show it. */
export interface Post {
  uri: string
  rkey: string
  title: string
  body: string
  summary?: string
  slug: string
  tags?: string[]
  publishedAt: string
}

/** Thrown with a message meant for the form. */
export class PostInputError extends Error {}

const graphemes = (s: string) => [...new Intl.Segmenter().segment(s)].length

/** Validate form input against the lexicon's limits and build the record. */
export function postRecord(input: { title?: unknown; body?: unknown; summary?: unknown; tags?: unknown }) {
  const title = String(input.title ?? '').trim()
  const body = String(input.body ?? '').trim()
  const summary = String(input.summary ?? '').trim()
  const tags = String(input.tags ?? '')
    .split(',')
    .map((t) => t.trim().replace(/^#/, ''))
    .filter(Boolean)
  if (!title || graphemes(title) > 300) throw new PostInputError('A title of 1 to 300 characters is required')
  if (!body || graphemes(body) > 100_000)
    throw new PostInputError('The post needs a body (up to 100,000 characters)')
  if (graphemes(summary) > 300) throw new PostInputError('The summary is limited to 300 characters')
  if (tags.length > 8 || tags.some((t) => graphemes(t) > 64))
    throw new PostInputError('Up to 8 tags of 64 characters')
  const slug =
    title
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 80) || 'post'
  return {
    $type: POST_COLLECTION,
    title,
    body,
    ...(summary ? { summary } : {}),
    slug,
    ...(tags.length ? { tags } : {}),
    publishedAt: new Date().toISOString(),
  }
}

/** Write a post to the user's repo (a DPoP-bound createRecord on their PDS). */
export async function createPost(session: OAuthSession, record: ReturnType<typeof postRecord>) {
  const res = await session.fetch('/xrpc/com.atproto.repo.createRecord', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ repo: session.did, collection: POST_COLLECTION, record }),
  })
  const body = (await res.json().catch(() => ({}))) as { uri?: string; message?: string; error?: string }
  if (!res.ok || !body.uri) {
    throw new PostInputError(`Your PDS refused the post: ${body.message ?? body.error ?? res.status}`)
  }
  return body.uri
}

/** The user's posts, newest first, from their repo. */
export async function listPosts(session: OAuthSession, limit = 50): Promise<Post[]> {
  const q = new URLSearchParams({ repo: session.did, collection: POST_COLLECTION, limit: String(limit) })
  const res = await session.fetch(`/xrpc/com.atproto.repo.listRecords?${q}`)
  if (!res.ok) throw new Error(`listRecords failed: ${res.status}`)
  const { records } = (await res.json()) as {
    records: Array<{ uri: string; value: Record<string, unknown> }>
  }
  return records
    .filter((r) => typeof r.value.title === 'string' && typeof r.value.body === 'string')
    .map((r) => ({
      uri: r.uri,
      rkey: r.uri.split('/').pop()!,
      title: r.value.title as string,
      body: r.value.body as string,
      summary: r.value.summary as string | undefined,
      slug: String(r.value.slug ?? ''),
      tags: Array.isArray(r.value.tags) ? (r.value.tags as string[]) : undefined,
      publishedAt: String(r.value.publishedAt ?? ''),
    }))
}
