/** Fast NSID extraction from `/xrpc/<nsid>` paths (hot path: no regex, no allocation on failure). */

/**
 * NSID of an XRPC path (`/xrpc/com.example.method`, optionally with a trailing `/` or a query), or
 * `undefined` when the path is not a well-formed XRPC path. Mirrors the reference's syntax check.
 */
export function extractNsid(path: string): string | undefined {
  if (path.length <= 6 || !path.startsWith('/xrpc/')) return undefined
  const start = 6
  let i = start
  let needAlnum = true
  for (; i < path.length; i++) {
    const c = path.charCodeAt(i)
    if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) needAlnum = false
    else if (c === 45 || c === 46) {
      if (needAlnum) return undefined
      needAlnum = true
    } else if (c === 47) {
      if (i === path.length - 1 || path.charCodeAt(i + 1) === 63) break
      return undefined
    } else if (c === 63) break
    else return undefined
  }
  if (needAlnum || i - start < 2 || i - start > 317) return undefined
  return path.slice(start, i)
}

/** Path component of a URL or of a request target (`/a/b?c`), without query or fragment. */
export function pathOf(url: string): string {
  let start = 0
  if (url.charCodeAt(0) !== 47) {
    const scheme = url.indexOf('://')
    if (scheme === -1) return '/'
    start = url.indexOf('/', scheme + 3)
    if (start === -1) return '/'
  }
  let end = url.length
  const q = url.indexOf('?', start)
  if (q !== -1) end = q
  const h = url.indexOf('#', start)
  if (h !== -1 && h < end) end = h
  return url.slice(start, end)
}
