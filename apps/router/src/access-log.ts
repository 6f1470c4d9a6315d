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
      scheme: ctx.scheme,
      protocol: req.httpVersion,
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

const quoted = (value: string | string[] | undefined) => JSON.stringify((Array.isArray(value) ? value.join(', ') : value) || '-');

/**
 * The `RTR` line of a request for an app's log, after Cloud Foundry gorouter's access line:
 * host, start time, request line, status, bytes received and sent, referer, user agent, client,
 * backend, forwarding headers, request id, response time (s) and the instance that answered.
 * Undefined when the request reached no app (unknown host, the router's health check). Pure.
 */
export function appAccessLine(req: IncomingMessage, status: number, ctx: RequestContext, aborted: boolean, now = performance.now()): { appId: string; text: string } | undefined {
  if (!ctx.appId) return undefined;
  const seconds = (Math.max(0, now - ctx.startedAt) / 1000).toFixed(6);
  const fields = [
    `${ctx.host ?? req.headers.host ?? '-'} - [${new Date(ctx.receivedAt).toISOString()}]`,
    JSON.stringify(`${req.method ?? '-'} ${pathOf(req.url)} HTTP/${req.httpVersion}`),
    String(status),
    req.headers['content-length'] ?? '0',
    String(ctx.bytes),
    quoted(req.headers.referer),
    quoted(req.headers['user-agent']),
    quoted(req.socket.remoteAddress),
    quoted(ctx.backend),
    `x_forwarded_for:${quoted(req.headers['x-forwarded-for'])}`,
    `x_forwarded_proto:${quoted(req.headers['x-forwarded-proto'])}`,
    `vcap_request_id:${quoted(ctx.requestId)}`,
    `response_time:${seconds}`,
    `app_id:${quoted(ctx.appId)}`,
    `app_index:${quoted(ctx.instanceIndex === undefined ? undefined : String(ctx.instanceIndex))}`,
    ...(ctx.processType && ctx.processType !== 'web' ? [`process_type:${quoted(ctx.processType)}`] : []),
    ...(ctx.routerError ? [`x_cf_routererror:${quoted(ctx.routerError)}`] : []),
    ...(aborted ? ['client_aborted:true'] : []),
  ];
  return { appId: ctx.appId, text: fields.join(' ') };
}
