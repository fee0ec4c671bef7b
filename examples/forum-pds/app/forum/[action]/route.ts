import { toNextJsHandler } from 'next-atproto'
import { atproto } from '@/lib/atproto'

// The forum's own sign-in (/forum/login, /forum/logout): lib/forum-session.ts.
export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'
export const { GET, POST } = toNextJsHandler(atproto)
