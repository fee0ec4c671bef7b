/**
 * The WebSocket seam: subscriptions write to this minimal socket, and a host adapter (such as
 * `createNodeWebSocket` in `@next-atproto/core/node`, or a future `NextResponse.upgrade()` one) supplies it.
 */
import type { ConnectionInfo } from './types.js'

/** What a subscription needs of a WebSocket. `ws`'s WebSocket fits through a thin wrapper. */
export interface SubscriptionSocket {
  /** Bytes queued but not yet written to the network. */
  readonly bufferedAmount: number
  /** Send one binary message; `cb` runs once it has been handed to the network (or failed). */
  send(data: Uint8Array, cb: (err?: Error) => void): void
  /** Close with a WebSocket close code and reason. */
  close(code: number, reason?: string): void
  /** Drop the connection without a closing handshake. */
  terminate(): void
  /** Called once when the connection is gone, whoever closed it. */
  onClose(listener: () => void): void
}

/** Implemented by the XRPC server: what an adapter hands accepted sockets to. */
export interface SubscriptionHost {
  /** Whether `url` (path or absolute URL) is one of this host's subscription endpoints. */
  isSubscription(url: string): boolean
  /**
   * Run the subscription for an upgraded socket. `request` carries the URL and headers of the upgrade
   * request (for params and auth). Resolves when the stream is over.
   */
  handleSubscription(request: Request, socket: SubscriptionSocket, connection?: ConnectionInfo): Promise<void>
}

/** WebSocket close codes used by subscriptions. */
export const CloseCode = {
  Normal: 1000,
  Abnormal: 1006,
  /** Sent after an error frame (the reference uses 1008 with the error name as reason). */
  Policy: 1008,
} as const
