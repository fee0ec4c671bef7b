import { toNextJsHandler } from 'next-atproto'
import { atproto } from '@/lib/atproto'

// OAuth metadata (RFC 8414 / RFC 9728), served by the authorization server of lib/atproto.ts.
export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'
export const { GET, OPTIONS } = toNextJsHandler(atproto)
