import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

/** What GET /health answers, as JSON: 200 when `status` is `ok`, else 503. */
export interface AdminHealth {
  status: string;
}

/** Where the admin server gets its answers (e.g. one router process, one cell). */
export interface AdminSources {
  health(): Promise<AdminHealth>;
  metrics(): Promise<{ contentType: string; body: string }>;
}

/** A listening admin server; `close` stops it (idempotent). */
export interface AdminServer {
  port: number;
  close(): Promise<void>;
}

export interface AdminServerOptions {
  /**
   * SO_REUSEPORT: a replacement process may bind the port while the one it replaces still holds
   * it (a rolling restart); both answer until the old one closes.
   */
  reusePort?: boolean;
}

/**
 * The admin port of a component (router, cell), apart from any traffic port so apps can never
 * shadow it: `GET /health` and `GET /metrics` (Prometheus text). Anything else is 404.
 */
export async function startAdminServer(host: string, port: number, sources: AdminSources, logger: Logger, options: AdminServerOptions = {}): Promise<AdminServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const answer = async () => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/health') {
        const health = await sources.health();
        res.writeHead(health.status === 'ok' ? 200 : 503, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : JSON.stringify(health));
      } else if (path === '/metrics') {
        const { contentType, body } = await sources.metrics();
        res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      } else {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: GET /health or /metrics\n');
      }
    };
    answer().catch((err: unknown) => {
      logger.error({ event: 'admin-request-failed', err, path }, 'admin request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`${(err as Error).message}\n`);
      else res.destroy();
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, reusePort: options.reusePort ?? false }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
