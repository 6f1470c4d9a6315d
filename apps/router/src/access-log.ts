import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { RequestContext } from './request-context';

/** The path without its query string, which may carry secrets. */
function pathOf(url: string | undefined): string {
  const path = (url ?? '').split('?')[0] ?? '';
  return path.length > 1024 ? `${path.slice(0, 1024)}…` : path;
}

const ms = (from: number | undefined, to: number) => (from === undefined ? undefined : Math.round((to - from) * 10) / 10);

/**
 * Writes the one access-log line of a request (or WebSocket) once it is over. Times, in ms:
 * `durationMs` arrival (headers parsed) to response end; `routerMs` arrival to the first
 * endpoint picked (Host check, route lookup, balancing: the router's own work before it proxies);
 * `backendMs` the last attempt's request issued to the backend's response headers (connect,
 * pooled or new, plus the app's time to first byte). What is left (duration - routerMs -
 * backendMs) is failed attempts plus the streaming of the body, which the client's and the app's
 * speed dominate, so it is not a measure of the router's overhead.
 */
export function logAccess(logger: Logger, req: IncomingMessage, status: number, ctx: RequestContext, aborted: boolean): void {
  const now = performance.now();
  logger.info(
    {
      event: 'access',
      requestId: ctx.requestId,
      host: ctx.host ?? req.headers.host,
      method: req.method,
      path: pathOf(req.url),
      status,
      bytes: ctx.bytes,
      durationMs: ms(ctx.startedAt, now),
      routerMs: ms(ctx.startedAt, ctx.routedAt ?? now),
      backendMs: ctx.backendMs,
      backend: ctx.backend,
      appId: ctx.appId,
      processType: ctx.processType,
      instanceIndex: ctx.instanceIndex,
      instanceId: ctx.instanceId,
      attempts: ctx.attempts,
      routerError: ctx.routerError,
      clientAborted: aborted || undefined,
      remote: req.socket.remoteAddress,
    },
    'access',
  );
}
