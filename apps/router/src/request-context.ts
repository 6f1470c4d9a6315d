import type { RouterErrorCode } from './router-error';

/** What the router learns about one request while serving it; read by the access log. */
export interface RequestContext {
  requestId: string;
  /** Epoch ms at which the request arrived. */
  receivedAt: number;
  /** performance.now() at arrival, for the duration. */
  startedAt: number;
  /** Normalised host, once known to be valid. */
  host?: string;
  /** "ip:port" of the last backend tried. */
  backend?: string;
  /** Backends tried, retries included. */
  attempts: number;
  /** Set when the router answered the request itself. */
  routerError?: RouterErrorCode;
  /** Response body bytes sent to the client. */
  bytes: number;
  /** Status sent on an upgraded socket (101, or the backend's refusal). */
  upgradeStatus?: number;
}
