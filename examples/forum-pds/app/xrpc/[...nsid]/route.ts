// app/xrpc/[...nsid]/route.ts
import { toNextJsHandler } from 'next-atproto'
import { atproto } from '@/lib/atproto'

// Prisma, node:crypto and streaming bodies need the Node.js runtime.
export const runtime = 'nodejs'
export const dynamic = 'force-dynamic'
export const { GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS } = toNextJsHandler(atproto)
