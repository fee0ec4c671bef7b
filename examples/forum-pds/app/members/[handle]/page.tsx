import Link from 'next/link'
import { notFound } from 'next/navigation'
import { hosted } from '@/lib/trpc'

export const dynamic = 'force-dynamic'

const THREADS = 'dev.nextatproto.forum.thread'

/** What a record says, for the list: its text or title when it has one. */
function summary(value: unknown): string {
  const v = value as { title?: unknown; text?: unknown }
  const text = typeof v.title === 'string' ? v.title : typeof v.text === 'string' ? v.text : ''
  return text.length > 140 ? `${text.slice(0, 140)}…` : text
}

export default async function Member({
  params,
  searchParams,
}: {
  params: Promise<{ handle: string }>
  searchParams: Promise<{ collection?: string; after?: string }>
}) {
  const handle = decodeURIComponent((await params).handle)
  const { collection = THREADS, after } = await searchParams
  const account = await hosted.accounts.get({ repo: handle }).catch(() => null)
  if (!account) notFound()
  const status = await hosted.repo.status({ did: account.did }).catch(() => null)
  if (!status) notFound()
  const records = status.collections.includes(collection)
    ? await hosted.records.list({ repo: account.did, collection, limit: 25, cursor: after })
    : { items: [], cursor: undefined }
  return (
    <main>
      <p>
        <Link href="/members">Members</Link>
      </p>
      <h1>{`@${account.handle}`}</h1>
      <p>
        <small>
          {account.did} · {status.records} records
        </small>
      </p>
      <nav>
        {status.collections.map((c) => (
          <span key={c}>
            {c === collection ? <strong>{c}</strong> : <Link href={`?collection=${c}`}>{c}</Link>}{' '}
          </span>
        ))}
      </nav>
      <h2>{collection}</h2>
      {records.items.length === 0 ? (
        <p>Nothing here yet.</p>
      ) : (
        <ul>
          {records.items.map((record) => (
            <li key={record.uri}>
              <code>{record.rkey}</code> {summary(record.value)}
            </li>
          ))}
        </ul>
      )}
      {records.cursor && <Link href={`?collection=${collection}&after=${records.cursor}`}>Older</Link>}
    </main>
  )
}
