import { atproto } from '@/lib/atproto'

export const dynamic = 'force-dynamic'

export default function Home() {
  return (
    <main>
      <h1>Forum</h1>
      <p>
        An existing forum that also speaks the AT Protocol. Its XRPC endpoints live under <code>/xrpc</code>
        (try <a href="/xrpc/_health">/xrpc/_health</a>).
      </p>
      <p>
        <a href="/members">Members</a>
      </p>
      <p>Framework version {atproto.version}.</p>
    </main>
  )
}
