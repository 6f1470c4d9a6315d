/**
 * Path routing through a real router process (node dist/main.js, as `npm start` runs it) against a
 * real redis-server and two backends on one host: "/" is one app, "/api" another. Requests go
 * over raw sockets, so no client library normalizes the path first: every spelling of /api an
 * attacker would try reaches the /api app, with the target forwarded as the client sent it, and
 * every ambiguous path gets the router's own 400 (x-paas-router-error: bad-path) without reaching
 * any app.
 */
import { redisKeys, ROUTER_ERROR_HEADER, type Endpoint, type RouteEntry } from '@paas/contracts';
import { registerEndpoint, writeHostRoutes } from '@paas/redis';
import { Redis } from 'ioredis';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRouterProcess, type RouterProcess } from './integration-test-support';
import { startBackend, startRedisServer, type Backend, type RedisProcess } from '@paas/testing';

const HOST = 'victim.apps.localhost';

interface RawReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends `head` (request line and headers, CRLF-terminated) byte for byte on a fresh connection; reads until close. */
function rawRequest(port: number, head: string): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(Buffer.from(head, 'latin1')));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer to ${JSON.stringify(head.split('\r\n')[0])}`)));
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const [statusLine = '', ...lines] = text.slice(0, split).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: text.slice(split + 4) });
    });
  });
}

const get = (port: number, target: string, host = HOST) => rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);

describe('path routing through a real router process', () => {
  const prefix = `test-paths-${randomUUID().slice(0, 8)}`;
  const keys = redisKeys(prefix);
  const dir = mkdtempSync(join(tmpdir(), 'router-paths-'));
  let redisProcess: RedisProcess | undefined;
  let redis: Redis | undefined;
  let router: RouterProcess | undefined;
  let port = 0;
  let root: Backend;
  let api: Backend;

  const endpoint = (appId: string, backend: Backend): Endpoint => ({
    instanceId: `${appId}-0`,
    appId,
    processType: 'web',
    index: 0,
    address: backend.address,
    cellId: 'cell-test',
    expiresAt: Date.now() + 600_000,
  });
  const route = (path: string, appId: string): RouteEntry => ({
    routeId: `route${path}`,
    host: HOST,
    path,
    destinations: [{ id: `dest-${appId}`, appId, processType: 'web', port: 8080 }],
  });

  before(async () => {
    redisProcess = await startRedisServer(dir);
    redis = new Redis(redisProcess.url, { maxRetriesPerRequest: 1 });
    root = await startBackend('root');
    api = await startBackend('api');
    await registerEndpoint(redis, keys, endpoint('app-root', root));
    await registerEndpoint(redis, keys, endpoint('app-api', api));
    await writeHostRoutes(redis, keys, HOST, [route('', 'app-root'), route('/api', 'app-api')]);
    router = await startRouterProcess({
      redisUrl: redisProcess.url,
      prefix,
      what: 'the /api route',
      serves: async (p) => (await get(p, '/api')).body === 'hello from api',
    });
    port = router.port;
  });

  after(async () => {
    try {
      await router?.kill();
      redis?.disconnect();
      await Promise.all([root?.close(), api?.close()]);
    } finally {
      redisProcess?.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every spelling of /api reaches the /api app, which gets the target as the client sent it', async () => {
    const spellings = ['/x/../api', '//api', '/./api', '/%61pi', '/%2e%2e/api', '/%2E%2E/api', '/.%2e/api', '/x/%2e%2e/api/users', '///api', '/%61%70%69/', '/api?x=/..', '/api/?next=%2F..%2F'];
    for (const target of spellings) {
      const before = api.paths.length;
      const reply = await get(port, target);
      assert.equal(reply.status, 200, target);
      assert.equal(reply.body, 'hello from api', target);
      assert.equal(api.paths.at(-1), target, `the /api app got ${target} unchanged`);
      assert.equal(api.paths.length, before + 1);
    }
  });

  it('an absolute-form target is routed by its host and normal path and forwarded in origin form, whatever Host says', async () => {
    const reply = await get(port, `http://${HOST}/x/../api?q=1`);
    assert.equal(reply.body, 'hello from api');
    assert.equal(api.paths.at(-1), '/x/../api?q=1');
    // RFC 9112 §3.2.2: the target's authority wins over Host, which the app gets replaced by it.
    const otherHost = await get(port, `http://${HOST}/x/../api`, 'other.apps.localhost');
    assert.equal(otherHost.body, 'hello from api');
    assert.equal(api.paths.at(-1), '/x/../api');
    assert.equal(api.seen.at(-1)!.host, HOST);
    const unknown = await get(port, 'http://other.apps.localhost/api');
    assert.equal(unknown.status, 404, 'the target names a host without routes, though Host names this one');
    assert.equal(unknown.headers[ROUTER_ERROR_HEADER], 'unknown-route');
  });

  it('what is not /api stays with the / app: the prefix ends at a segment boundary', async () => {
    for (const target of ['/apix', '/%61pix', '/api/../x', '/api/..', '/API', '/', '/xapi']) {
      const reply = await get(port, target);
      assert.equal(reply.body, 'hello from root', target);
      assert.equal(root.paths.at(-1), target);
    }
  });

  it('ambiguous paths get the router\'s 400 bad-path and reach no app', async () => {
    const seen = root.paths.length + api.paths.length;
    const ambiguous = ['/api%2Fx', '/%2e%2e%2fapi', '/x/..%2Fapi', '/api%5Cx', '/..\\api', '/x\\..\\api', '/api%00', '/api%0d%0aSet-Cookie:x', '/api%7F', '/api%zz', '/%', '/api%4', '/x/..;/api', `http://${HOST}/a%2Fb`];
    for (const target of ambiguous) {
      const reply = await get(port, target);
      assert.equal(reply.status, 400, target);
      assert.equal(reply.headers[ROUTER_ERROR_HEADER], 'bad-path', target);
      const body = JSON.parse(reply.body) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'bad-path');
      assert.match(body.error.message, /is ambiguous/);
    }
    const upgrade = await rawRequest(
      port,
      `GET /api%2F..%2Fx HTTP/1.1\r\nHost: ${HOST}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
    );
    assert.equal(upgrade.status, 400, 'a WebSocket upgrade with an ambiguous path too');
    assert.equal(upgrade.headers[ROUTER_ERROR_HEADER], 'bad-path');
    assert.equal(root.paths.length + api.paths.length, seen, 'no ambiguous request reached an app');
  });
});
