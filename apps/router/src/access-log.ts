import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { RequestContext } from './request-context';

/** The path without its query string, which may carry secrets. */
function pathOf(url: string | undefined): string {
  const path = (url ?? '').split('?')[0] ?? '';
  return path.length > 1024 ? `${path.slice(0, 1024)}…` : path;
}

/** Writes the one access-log line of a request (or WebSocket) once it is over. */
export function logAccess(logger: Logger, req: IncomingMessage, status: number, ctx: RequestContext, aborted: boolean): void {
  logger.info(
    {
      event: 'access',
      requestId: ctx.requestId,
      host: ctx.host ?? req.headers.host,
      method: req.method,
      path: pathOf(req.url),
      status,
      bytes: ctx.bytes,
      durationMs: Math.round((performance.now() - ctx.startedAt) * 10) / 10,
      backend: ctx.backend,
      attempts: ctx.attempts,
      routerError: ctx.routerError,
      clientAborted: aborted || undefined,
      remote: req.socket.remoteAddress,
    },
    'access',
  );
}
