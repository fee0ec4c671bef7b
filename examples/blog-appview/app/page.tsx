import { listPosts } from '@/lib/posts'
import { currentSession } from '@/lib/session'

export const dynamic = 'force-dynamic'

export default async function Home() {
  const session = await currentSession()
  if (!session) {
    return (
      <main>
        <h1>Blog</h1>
        <p>
          An atproto AppView: <a href="/signin">sign in</a> with your atproto account (any PDS) and write
          posts that live in your own repository.
        </p>
      </main>
    )
  }
  const posts = await listPosts(session)
  return (
    <main>
      <h1>Your posts</h1>
      {/* Read from your repo with listRecords; network-wide listings come with firehose indexing. */}
      {posts.length === 0 ? (
        <p>
          No posts yet. <a href="/write">Write one</a>.
        </p>
      ) : null}
      <ul id="posts" style={{ listStyle: 'none', padding: 0 }}>
        {posts.map((p) => (
          <li key={p.uri} data-uri={p.uri} style={{ marginBottom: '1.5rem' }}>
            <h2 style={{ marginBottom: '0.25rem' }}>{p.title}</h2>
            <small>
              {new Date(p.publishedAt).toLocaleString('en')} · <code>{p.uri}</code>
            </small>
            {p.summary ? <p>{p.summary}</p> : null}
            <pre style={{ whiteSpace: 'pre-wrap', fontFamily: 'inherit' }}>{p.body}</pre>
          </li>
        ))}
      </ul>
    </main>
  )
}
