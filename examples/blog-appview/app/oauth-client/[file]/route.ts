import { toNextJsHandler } from 'next-atproto'
import { blog } from '@/lib/atproto'

// The client metadata document (the client_id URL) and the JWKS of a confidential client.
export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'
export const { GET, HEAD } = toNextJsHandler(blog.app)
