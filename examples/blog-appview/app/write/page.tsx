import { redirect } from 'next/navigation'
import { currentSession } from '@/lib/session'

export const dynamic = 'force-dynamic'

export default async function Write({ searchParams }: { searchParams: Promise<{ error?: string }> }) {
  const session = await currentSession()
  if (!session) redirect('/signin')
  const { error } = await searchParams
  return (
    <main>
      <h1>Write a post</h1>
      <p>It is written to your repository ({session.did}) on your PDS.</p>
      {error ? (
        <p id="error" role="alert" style={{ color: 'crimson' }}>
          {error}
        </p>
      ) : null}
      <form method="post" action="/posts" style={{ display: 'grid', gap: '0.75rem' }}>
        <input name="title" id="title" placeholder="Title" required maxLength={300} />
        <input name="summary" id="summary" placeholder="Summary (optional)" maxLength={300} />
        <textarea name="body" id="body" placeholder="Markdown" rows={12} required />
        <input name="tags" id="tags" placeholder="Tags, comma separated (optional)" />
        <button type="submit" id="publish">
          Publish
        </button>
      </form>
    </main>
  )
}
