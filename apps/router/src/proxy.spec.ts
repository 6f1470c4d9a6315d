/**
 * BackendProxy retries, on a table stub whose first pick is a port nothing listens on: every
 * request is refused once, then retried on a live backend, bodiless (fast path, no gate) or not.
 */
import type { Endpoint } from '@paas/contracts';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { EndpointLoad } from './endpoint-load';
import { freePort } from './integration-test-support';
import { startBackend, type Backend } from '@paas/testing';
import { RouterMetrics } from './metrics';
import { BackendProxy } from './proxy';
import type { RequestContext } from './request-context';
import type { Route, RouteTable } from './route-table';

const endpoint = (instanceId: string, address: string): Endpoint => ({
  instanceId,
  appId: 'app',
  processType: 'web',
  index: 0,
  address,
  cellId: 'cell',
  expiresAt: Date.now() + 60_000,
});

describe('BackendProxy retries', () => {
  let live: Backend;
  let proxy: BackendProxy;
  let server: http.Server;
  let port: number;
  const contexts: RequestContext[] = [];

  before(async () => {
    live = await startBackend('live');
    const dead = endpoint('dead', `127.0.0.1:${await freePort()}`);
    const alive = endpoint('live', live.address);
    const table = {
      pick: (_route: Route, tried: ReadonlySet<string>) => (tried.has('dead') ? alive : dead),
      liveEndpoint: () => undefined,
      markFailed: () => undefined,
    } as unknown as RouteTable;
    proxy = new BackendProxy({
      table,
      logger: pino({ level: 'silent' }),
      load: new EndpointLoad(),
      metrics: new RouterMetrics({ stats: () => ({ hosts: 0, routes: 0, endpoints: 0 }), lastSyncAt: () => undefined }),
      connectTimeoutMs: 2_000,
      backendTimeoutMs: 10_000,
    });
    server = http.createServer((req, res) => {
      const ctx: RequestContext = { requestId: `r${contexts.length}`, receivedAt: Date.now(), startedAt: performance.now(), attempts: 0, bytes: 0 };
      contexts.push(ctx);
      proxy.web(req, res, { host: 'app.localhost' } as Route, ctx);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    proxy.close();
    await live.close();
  });

  const send = (method: string, headers: http.OutgoingHttpHeaders, chunks: Buffer[] = []) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method, path: '/x', agent: false, headers }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString() }));
      });
      req.on('error', reject);
      for (const c of chunks) req.write(c);
      req.end();
    });

  it('retries a bodiless GET, HEAD, DELETE and a Content-Length: 0 POST after a refused connect', async () => {
    for (const [method, headers] of [
      ['GET', {}],
      ['HEAD', {}],
      ['DELETE', {}],
      ['POST', { 'content-length': '0' }],
    ] as const) {
      contexts.length = 0;
      const reply = await send(method, headers);
      assert.equal(reply.status, 200, `${method}: ${reply.body}`);
      assert.equal(reply.body, method === 'HEAD' ? '' : 'hello from live', method);
      assert.equal(contexts[0]?.attempts, 2, method);
    }
  });

  it('delivers a POST body intact after a retry, with a Content-Length or chunked', async () => {
    const payload = Buffer.alloc(200 * 1024, 'y');
    const digest = createHash('sha256').update(payload).digest('hex');
    for (const headers of [{ 'content-length': String(payload.length) }, { 'transfer-encoding': 'chunked' }]) {
      contexts.length = 0;
      const reply = await send('POST', headers, [payload.subarray(0, 1000), payload.subarray(1000)]);
      assert.equal(reply.status, 200, reply.body);
      assert.equal(reply.body, `live got ${payload.length} bytes ${digest}`);
      assert.equal(contexts[0]?.attempts, 2);
    }
  });
});
