/**
 * What domain-verification tests talk to besides the DNS server (startFakeDns of @paas/testing):
 * HTTP servers on loopback addresses standing in for what a domain may point at: the platform's router (answering
 * /.well-known/paas-domain-verification/ from the well-known answers in Redis, as the router
 * does) or a foreign server. Each is started on free ports and stopped by its own handle.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Redis } from 'ioredis';
import { normalizeHost, wellKnownField, type RedisKeys } from '@paas/contracts';
import { readWellKnownAnswers } from '@paas/redis';

export interface TestHttpServer {
  close(): Promise<void>;
}

function listen(server: Server, address: string, port: number): Promise<TestHttpServer> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () =>
      resolve({
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      }),
    );
  });
}

/**
 * Answers as the router answers under /.well-known/: the body of the well-known answer for the
 * request's Host and path (readWellKnownAnswers, what the controller published), else 404.
 */
export function startWellKnownResponder(store: () => { redis: Redis; keys: RedisKeys }, address: string, port: number): Promise<TestHttpServer> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void Promise.resolve()
      .then(() => readWellKnownAnswers(store().redis, store().keys))
      .then(
      (answers) => {
        const answer = answers.get(wellKnownField(normalizeHost(req.headers.host ?? ''), req.url ?? ''));
        res.writeHead(answer ? 200 : 404, { 'content-type': 'text/plain' }).end(answer ? answer.body : 'no route\n');
      },
      () => res.writeHead(502).end(),
    );
  });
  return listen(server, address, port);
}

/** A server that is not the platform's: `answer(host)` says what it answers each Host with. */
export function startForeignServer(address: string, port: number, answer: (host: string) => { status: number; body: string }): Promise<TestHttpServer> {
  const server = createServer((req, res) => {
    const { status, body } = answer(normalizeHost(req.headers.host ?? ''));
    res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
  });
  return listen(server, address, port);
}
