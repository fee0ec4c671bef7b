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
  let posts: Awaited<ReturnType<typeof listPosts>>
  try {
    posts = await listPosts(session)
  } catch (err) {
    // By name: pages and the server may hold separate copies of the core classes.
    const ended = (err as Error).name === 'OAuthSessionExpiredError'
    return (
      <main>
        <h1>Your posts</h1>
        <p id="error" role="alert">
          {ended ? (
            <>
              Your session has ended. <a href="/signin">Sign in again</a>.
            </>
          ) : (
            `Your PDS could not be reached: ${(err as Error).message}`
          )}
        </p>
      </main>
    )
  }
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
