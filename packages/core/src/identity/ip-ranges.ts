import { isIP } from 'node:net'

/** How an IP address may be reached from a server that fetches user-supplied URLs. */
export type AddressClass = 'public' | 'loopback' | 'private'

/** Parse a dotted-quad IPv4 address into a 32-bit unsigned number, or null. */
function parseIPv4(ip: string): number | null {
  const parts = ip.split('.')
  if (parts.length !== 4) return null
  let n = 0
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null
    const v = Number(p)
    if (v > 255) return null
    n = n * 256 + v
  }
  return n
}

/** Parse an IPv6 address (with optional `::`, embedded IPv4 tail and zone id) into 16 bytes, or null. */
export function parseIPv6(input: string): Uint8Array | null {
  let ip = input
  const zone = ip.indexOf('%')
  if (zone >= 0) ip = ip.slice(0, zone)
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1)
  const words: number[] = []
  let tail: number | null = null
  const lastColon = ip.lastIndexOf(':')
  if (lastColon >= 0 && ip.indexOf('.', lastColon) > 0) {
    tail = parseIPv4(ip.slice(lastColon + 1))
    if (tail === null) return null
    ip = `${ip.slice(0, lastColon + 1)}0:0`
  }
  const halves = ip.split('::')
  if (halves.length > 2) return null
  const parseWords = (s: string): number[] | null => {
    if (s === '') return []
    const out: number[] = []
    for (const w of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(w)) return null
      out.push(Number.parseInt(w, 16))
    }
    return out
  }
  const head = parseWords(halves[0])
  const rest = halves.length === 2 ? parseWords(halves[1]) : []
  if (!head || !rest) return null
  if (halves.length === 2) {
    const fill = 8 - head.length - rest.length
    if (fill < 1) return null
    words.push(...head, ...new Array(fill).fill(0), ...rest)
  } else {
    if (head.length !== 8) return null
    words.push(...head)
  }
  const bytes = new Uint8Array(16)
  for (let i = 0; i < 8; i++) {
    bytes[i * 2] = words[i] >> 8
    bytes[i * 2 + 1] = words[i] & 0xff
  }
  if (tail !== null) {
    bytes[12] = tail >>> 24
    bytes[13] = (tail >>> 16) & 0xff
    bytes[14] = (tail >>> 8) & 0xff
    bytes[15] = tail & 0xff
  }
  return bytes
}

const inV4 = (n: number, base: string, bits: number): boolean => {
  const b = parseIPv4(base)!
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
  return (n & mask) >>> 0 === (b & mask) >>> 0
}

/** IPv4 ranges that must never be fetched (besides loopback, handled separately). */
const V4_BLOCKED: [string, number][] = [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved + broadcast
]

function classifyV4(n: number): AddressClass {
  if (inV4(n, '127.0.0.0', 8)) return 'loopback'
  for (const [base, bits] of V4_BLOCKED) if (inV4(n, base, bits)) return 'private'
  return 'public'
}

const v4FromBytes = (b: Uint8Array, at: number): number =>
  ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0

function classifyV6(b: Uint8Array): AddressClass {
  const allZero = (from: number, to: number) => b.subarray(from, to).every((x) => x === 0)
  if (allZero(0, 15) && b[15] === 1) return 'loopback' // ::1
  if (allZero(0, 16)) return 'private' // ::
  // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) carry an IPv4 address: judge that.
  if (allZero(0, 10) && b[10] === 0xff && b[11] === 0xff) return classifyV4(v4FromBytes(b, 12))
  if (allZero(0, 12)) return classifyV4(v4FromBytes(b, 12))
  // NAT64 (64:ff9b::/96) reaches the embedded IPv4 address through a translator.
  if (b[0] === 0 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && allZero(4, 12)) {
    return classifyV4(v4FromBytes(b, 12))
  }
  // 6to4 (2002::/16) embeds an IPv4 address in bytes 2..5.
  if (b[0] === 0x20 && b[1] === 0x02) return classifyV4(v4FromBytes(b, 2))
  if ((b[0] & 0xfe) === 0xfc) return 'private' // fc00::/7 unique-local
  if (b[0] === 0xfe && (b[1] & 0xc0) === 0x80) return 'private' // fe80::/10 link-local
  if (b[0] === 0xfe && (b[1] & 0xc0) === 0xc0) return 'private' // fec0::/10 site-local (deprecated)
  if (b[0] === 0xff) return 'private' // multicast
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x0d && b[3] === 0xb8) return 'private' // 2001:db8::/32 docs
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0 && b[3] === 0) return 'private' // 2001::/32 Teredo
  if (b[0] === 0x01 && b[1] === 0 && allZero(2, 8)) return 'private' // 100::/64 discard
  return 'public'
}

/**
 * Classify an IP address literal (IPv4 or IPv6, brackets and zone ids allowed).
 * Anything that does not parse is reported as `private` so callers fail closed.
 */
export function classifyAddress(ip: string): AddressClass {
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip
  const version = isIP(bare.split('%')[0])
  if (version === 4) return classifyV4(parseIPv4(bare)!)
  if (version === 6) {
    const bytes = parseIPv6(bare)
    return bytes ? classifyV6(bytes) : 'private'
  }
  return 'private'
}
