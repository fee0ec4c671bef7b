import { toNextJsHandler } from 'next-atproto'
import { atproto } from '@/lib/atproto'

// The OAuth authorization server: /oauth/par, /oauth/authorize (sign-in and consent), /oauth/token,
// /oauth/revoke, /oauth/jwks.
export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'
export const { GET, POST, OPTIONS } = toNextJsHandler(atproto)
