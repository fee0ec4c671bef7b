import type { ReactNode } from 'react'
import { currentSession } from '@/lib/session'

export const metadata = {
  title: 'Blog',
  description: 'A small atproto AppView: sign in with your atproto account, write posts to your own repo.',
}

export const dynamic = 'force-dynamic'

export default async function RootLayout({ children }: { children: ReactNode }) {
  const session = await currentSession()
  return (
    <html lang="en">
      <body
        style={{ fontFamily: 'system-ui, sans-serif', maxWidth: 720, margin: '2rem auto', padding: '0 1rem' }}
      >
        <nav style={{ display: 'flex', gap: '1rem', alignItems: 'center', marginBottom: '2rem' }}>
          <a href="/">Posts</a>
          {session ? (
            <>
              <a href="/write">Write</a>
              <span id="signed-in-as" style={{ marginLeft: 'auto' }}>
                {session.did}
              </span>
              <form method="post" action="/oauth/signout">
                <button type="submit" id="sign-out">
                  Sign out
                </button>
              </form>
            </>
          ) : (
            <a href="/signin" style={{ marginLeft: 'auto' }}>
              Sign in
            </a>
          )}
        </nav>
        {children}
      </body>
    </html>
  )
}
