import Link from 'next/link'
import { hosted } from '@/lib/trpc'

export const dynamic = 'force-dynamic'

export default async function Members({ searchParams }: { searchParams: Promise<{ after?: string }> }) {
  const { after } = await searchParams
  const page = await hosted.accounts.list({
    limit: 50,
    cursor: after?.startsWith('did:') ? after : undefined,
  })
  return (
    <main>
      <h1>Members</h1>
      <p>Members whose atproto accounts this forum hosts.</p>
      {page.items.length === 0 ? (
        <p>No members yet.</p>
      ) : (
        <ul>
          {page.items.map((member) => (
            <li key={member.did}>
              <Link href={`/members/${member.handle}`}>{`@${member.handle}`}</Link>
              {member.active ? '' : ` (${member.status})`}{' '}
              <small>joined {member.createdAt.slice(0, 10)}</small>
            </li>
          ))}
        </ul>
      )}
      {page.cursor && <Link href={`/members?after=${encodeURIComponent(page.cursor)}`}>More members</Link>}
    </main>
  )
}
