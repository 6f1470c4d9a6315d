import type { RouterErrorCode } from './router-error';

/** What the router learns about one request while serving it; read by the access log. */
export interface RequestContext {
  requestId: string;
  /** Epoch ms at which the request arrived. */
  receivedAt: number;
  /** performance.now() at arrival, for the duration. */
  startedAt: number;
  /** The listener's scheme: https on the TLS listener (HTTP/1.1 and HTTP/2). */
  scheme?: 'http' | 'https';
  /** Normalised host, once known to be valid. */
  host?: string;
  /** "ip:port" of the last backend tried. */
  backend?: string;
  /** App id, process type, instance index and id of the last endpoint tried. */
  appId?: string;
  processType?: string;
  instanceIndex?: number;
  instanceId?: string;
  /** The instance the request's sticky-session cookie named, if any. */
  stickyInstance?: string;
  /** performance.now() when the first endpoint was picked: routing is over. */
  routedAt?: number;
  /** performance.now() when the last attempt's request was issued (before its connect). */
  backendSentAt?: number;
  /** From `backendSentAt` to the backend's response headers: connect + the app's time to first byte. */
  backendMs?: number;
  /** Backends tried, retries included. */
  attempts: number;
  /** Set when the router answered the request itself. */
  routerError?: RouterErrorCode;
  /** Response body bytes sent to the client. */
  bytes: number;
  /** Status sent on an upgraded socket (101, or the backend's refusal). */
  upgradeStatus?: number;
}
