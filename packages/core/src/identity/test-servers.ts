/**
 * Loopback servers for the identity and PLC tests (not exported from the package index).
 * @NOTE test-only helper; excluded from nothing at build time because it imports only node:*.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export type NodeHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void

/** A listening loopback server. */
export interface TestServer {
  url: string
  port: number
  close(): Promise<void>
}

async function listen(server: http.Server | https.Server, scheme: string): Promise<TestServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.()
        server.close(() => resolve())
      }),
  }
}

/** Start an HTTP server on 127.0.0.1 with a random port. */
export function startHttpServer(handler: NodeHandler): Promise<TestServer> {
  return listen(http.createServer(handler), 'http')
}

/** A self-signed certificate for `localhost` / 127.0.0.1, made with the openssl CLI. */
export function selfSignedCert(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'natp-cert-'))
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    )
    return {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Start an HTTPS server on 127.0.0.1 with a random port. */
export function startHttpsServer(
  tls: { key: string; cert: string },
  handler: NodeHandler,
): Promise<TestServer> {
  return listen(https.createServer(tls, handler), 'https')
}
