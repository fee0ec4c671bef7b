import { toNextJsHandler } from 'next-atproto'
import { atproto } from '@/lib/atproto'

// The development PLC directory (lib/atproto.ts): clients resolve the members' did:plc documents here.
export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'
export const { GET, POST } = toNextJsHandler(atproto)
