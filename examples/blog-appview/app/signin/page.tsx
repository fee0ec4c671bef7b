export const dynamic = 'force-dynamic'

export default async function SignIn({ searchParams }: { searchParams: Promise<{ error?: string }> }) {
  const { error } = await searchParams
  return (
    <main>
      <h1>Sign in</h1>
      <p>
        With your atproto account: enter your handle (alice.example.com), your DID, or your server's address.
      </p>
      {error ? (
        <p id="error" role="alert" style={{ color: 'crimson' }}>
          {error}
        </p>
      ) : null}
      <form method="post" action="/oauth/signin">
        <input
          name="identifier"
          id="identifier"
          placeholder="alice.example.com"
          required
          autoComplete="username"
        />
        <input type="hidden" name="next" value="/write" />{' '}
        <button type="submit" id="continue">
          Continue
        </button>
      </form>
    </main>
  )
}
