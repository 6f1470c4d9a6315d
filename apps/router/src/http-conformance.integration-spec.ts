/**
 * HTTP conformance of the router (RFC 9110/9112) through a real router process (node dist/main.js,
 * as `npm start` runs it) against a real redis-server and backends that echo the request line and
 * headers they received. Requests go over raw sockets, byte for byte, so no client library fixes
 * them first; the trusted-proxy cases connect from 127.0.0.2, the one address in
 * ROUTER_TRUSTED_PROXIES, the others from 127.0.0.1.
 */
import { redisKeys, ROUTER_ERROR_HEADER, type Endpoint, type RouteEntry } from '@paas/contracts';
import { registerEndpoint, writeHostRoutes } from '@paas/redis';
import { Redis } from 'ioredis';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRouterProcess, type RouterProcess } from './integration-test-support';
import { startRedisServer, startWsEchoBackend, type Backend, type RedisProcess } from '@paas/testing';

const ECHO = 'echo.apps.localhost';
const OTHER = 'other.apps.localhost';
const WS = 'ws.apps.localhost';
const TRUSTED_PEER = '127.0.0.2';

interface Echoed {
  /** The request line as the app's node parser read it. */
  line: string;
  /** Lower-cased header names to values (repeated lines joined as node does). */
  headers: http.IncomingHttpHeaders;
  bodyBytes: number;
}

interface EchoBackend {
  name: string;
  address: string;
  seen: Echoed[];
  close(): Promise<void>;
}

/**
 * An app that answers with what it received: `{line, headers, bodyBytes}` as JSON. On `/hop` it
 * also sends the hop-by-hop headers of a response (Connection naming X-Backend-Secret, Keep-Alive,
 * Proxy-Connection, Upgrade, Trailer), which the router must not pass on; on `/close` it closes
 * its connection (`Connection: close`).
 */
async function startEchoBackend(name: string): Promise<EchoBackend> {
  const seen: Echoed[] = [];
  const server = http.createServer((req, res) => {
    let bodyBytes = 0;
    req.on('data', (c: Buffer) => (bodyBytes += c.length));
    req.on('end', () => {
      const echoed: Echoed = { line: `${req.method} ${req.url} HTTP/${req.httpVersion}`, headers: req.headers, bodyBytes };
      seen.push(echoed);
      if (req.url === '/hop') {
        res.setHeader('Connection', 'keep-alive, X-Backend-Secret');
        res.setHeader('X-Backend-Secret', 'for the router only');
        res.setHeader('Keep-Alive', 'timeout=5');
        res.setHeader('Proxy-Connection', 'keep-alive');
        res.setHeader('Upgrade', 'h2c');
        res.setHeader('Trailer', 'X-Checksum');
        res.setHeader('Proxy-Authenticate', 'Basic realm="app"');
        res.setHeader('X-App', name);
      }
      if (req.url === '/close') res.setHeader('Connection', 'close');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(echoed));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    name,
    address: `127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface RawReply {
  /** 0 when the router closed the connection without an answer. */
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends `head` (request line, headers, maybe a body) byte for byte on a fresh connection from `from`; reads until close. */
function rawRequest(port: number, head: string, from = '127.0.0.1'): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: from }, () => socket.write(Buffer.from(head, 'latin1')));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer to ${JSON.stringify(head.split('\r\n')[0])}`)));
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      if (text === '') return resolve({ status: 0, headers: {}, body: '' });
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

/** A GET of `target` with the given header lines (CRLF added), closing the connection after the answer. */
const get = (port: number, target: string, headerLines: string[], from?: string) =>
  rawRequest(port, `GET ${target} HTTP/1.1\r\n${[...headerLines, 'Connection: close'].map((l) => `${l}\r\n`).join('')}\r\n`, from);

const errorOf = (reply: RawReply) => (JSON.parse(reply.body) as { error: { code: string; message: string } }).error;

describe('HTTP conformance through a real router process', () => {
  const prefix = `test-conformance-${randomUUID().slice(0, 8)}`;
  const keys = redisKeys(prefix);
  const dir = mkdtempSync(join(tmpdir(), 'router-conformance-'));
  let redisProcess: RedisProcess | undefined;
  let redis: Redis | undefined;
  let router: RouterProcess | undefined;
  let port = 0;
  let echo: EchoBackend;
  let other: EchoBackend;
  let ws: Backend;
  /** Requests any app has seen so far. */
  const appRequests = () => echo.seen.length + other.seen.length + ws.seen.length;

  const endpoint = (appId: string, address: string): Endpoint => ({
    instanceId: `${appId}-0`,
    appId,
    processType: 'web',
    index: 0,
    address,
    cellId: 'cell-test',
    expiresAt: Date.now() + 600_000,
  });
  const route = (host: string, appId: string): RouteEntry => ({
    routeId: `route-${host}`,
    host,
    path: '',
    destinations: [{ id: `dest-${appId}`, appId, processType: 'web', port: 8080 }],
  });

  before(async () => {
    redisProcess = await startRedisServer(dir);
    redis = new Redis(redisProcess.url, { maxRetriesPerRequest: 1 });
    echo = await startEchoBackend('echo');
    other = await startEchoBackend('other');
    ws = await startWsEchoBackend();
    for (const [host, appId, address] of [
      [ECHO, 'app-echo', echo.address],
      [OTHER, 'app-other', other.address],
      [WS, 'app-ws', ws.address],
    ] as const) {
      await registerEndpoint(redis, keys, endpoint(appId, address));
      await writeHostRoutes(redis, keys, host, [route(host, appId)]);
    }
    router = await startRouterProcess({
      redisUrl: redisProcess.url,
      prefix,
      env: { ROUTER_TRUSTED_PROXIES: `${TRUSTED_PEER}, 10.0.0.0/8` },
      what: 'the echo and ws routes',
      serves: async (p) => (await get(p, '/', [`Host: ${ECHO}`])).status === 200 && (await get(p, '/', [`Host: ${WS}`])).body === 'not a websocket',
    });
    port = router.port;
  });

  after(async () => {
    try {
      await router?.kill();
      redis?.disconnect();
      await Promise.all([echo?.close(), other?.close(), ws?.close()]);
    } finally {
      redisProcess?.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('more than one Host gets the router\'s 400 bad-host naming both, and reaches no app', async () => {
    const seen = appRequests();
    const cases: Array<[string, string[], RegExp]> = [
      ['two Host lines', [`Host: ${ECHO}`, `Host: ${OTHER}`], /more than one Host \("echo\.apps\.localhost", "other\.apps\.localhost"\)/],
      ['the same value twice', [`Host: ${ECHO}`, `Host: ${ECHO}`], /more than one Host/],
      ['a second line in another case', [`Host: ${ECHO}`, `hOST: ${OTHER}`], /more than one Host/],
      ['a comma list', [`Host: ${ECHO}, ${OTHER}`], /more than one Host \("echo\.apps\.localhost", "other\.apps\.localhost"\)/],
    ];
    for (const [what, lines, message] of cases) {
      const reply = await get(port, '/', lines);
      assert.equal(reply.status, 400, what);
      assert.equal(reply.headers[ROUTER_ERROR_HEADER], 'bad-host', what);
      assert.equal(errorOf(reply).code, 'bad-host');
      assert.match(errorOf(reply).message, message, what);
      assert.match(errorOf(reply).message, /send exactly one Host header/);
    }
    const upgrade = await rawRequest(
      port,
      `GET / HTTP/1.1\r\nHost: ${WS}\r\nHost: ${ECHO}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
    );
    assert.equal(upgrade.status, 400, 'a WebSocket upgrade with two Hosts too');
    assert.equal(upgrade.headers[ROUTER_ERROR_HEADER], 'bad-host');
    assert.equal(appRequests(), seen, 'no request with two Hosts reached an app');
  });

  it('a request without Host gets the router\'s 400 bad-host; HTTP/1.0 may name the host in an absolute-form target alone', async () => {
    const seen = appRequests();
    for (const head of ['GET / HTTP/1.1\r\nConnection: close\r\n\r\n', `GET http://${ECHO}/ HTTP/1.1\r\nConnection: close\r\n\r\n`, 'GET / HTTP/1.0\r\n\r\n']) {
      const reply = await rawRequest(port, head);
      assert.equal(reply.status, 400, head);
      assert.equal(reply.headers[ROUTER_ERROR_HEADER], 'bad-host', head);
      assert.match(errorOf(reply).message, /the request has no Host header/);
    }
    assert.equal(appRequests(), seen);
    const old = await rawRequest(port, `GET http://${ECHO}/ten HTTP/1.0\r\n\r\n`);
    assert.equal(old.status, 200);
    const got = JSON.parse(old.body) as Echoed;
    assert.equal(got.line, 'GET /ten HTTP/1.1', 'forwarded as HTTP/1.1 by the router\'s pool');
    assert.equal(got.headers.host, ECHO);
  });

  it('an absolute-form target wins over Host: the app of the target\'s host gets it, with that Host and the origin-form path as sent', async () => {
    const reply = await get(port, `http://${OTHER}/x/../y?q=1`, [`Host: ${ECHO}`]);
    assert.equal(reply.status, 200);
    const got = JSON.parse(reply.body) as Echoed;
    assert.equal(got.line, 'GET /x/../y?q=1 HTTP/1.1');
    assert.equal(got.headers.host, OTHER, 'Host is replaced by the target\'s authority');
    assert.equal(got.headers['x-forwarded-host'], OTHER);
    assert.equal(other.seen.at(-1)?.line, 'GET /x/../y?q=1 HTTP/1.1', 'the target\'s app, not the Host\'s');

    const withPort = await get(port, 'HTTP://Other.Apps.Localhost:8080/p', [`Host: ${ECHO}`]);
    assert.equal(withPort.status, 200);
    const got2 = JSON.parse(withPort.body) as Echoed;
    assert.equal(got2.line, 'GET /p HTTP/1.1');
    assert.equal(got2.headers.host, 'Other.Apps.Localhost:8080', 'the authority as sent, port included');

    const unknown = await get(port, 'http://nobody.apps.localhost/', [`Host: ${ECHO}`]);
    assert.equal(unknown.status, 404, 'routed by the target\'s host even when Host names a live app');
    assert.equal(unknown.headers[ROUTER_ERROR_HEADER], 'unknown-route');
    assert.match(errorOf(unknown).message, /nobody\.apps\.localhost/);

    const ambiguous = await get(port, `http://${OTHER}/a%2Fb`, [`Host: ${ECHO}`]);
    assert.equal(ambiguous.status, 400, 'the path of an absolute-form target keeps the normal-form rules');
    assert.equal(ambiguous.headers[ROUTER_ERROR_HEADER], 'bad-path');
  });

  it('strips hop-by-hop request headers and every header Connection names before the app', async () => {
    const reply = await get(port, '/', [
      `Host: ${ECHO}`,
      'Connection: close, X-Secret',
      'X-Secret: for the router only',
      'Keep-Alive: timeout=5',
      'Proxy-Connection: keep-alive',
      'TE: trailers',
      'Trailer: X-Checksum',
      'Upgrade: h2c',
      'Proxy-Authorization: Basic cHJveHk6c2VjcmV0',
      'X-Kept: yes',
    ]);
    assert.equal(reply.status, 200);
    const { headers } = JSON.parse(reply.body) as Echoed;
    for (const name of ['x-secret', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'proxy-authorization']) assert.equal(headers[name], undefined, `${name} was forwarded`);
    assert.doesNotMatch(String(headers.connection), /x-secret|close/i, 'the client\'s Connection is not the app\'s');
    assert.equal(headers['x-kept'], 'yes');
    assert.equal(reply.headers.connection, 'close', 'the client\'s close is still honoured');

    // Connection cannot remove what frames or routes the message.
    const post = await rawRequest(port, `POST / HTTP/1.1\r\nHost: ${ECHO}\r\nConnection: close, Content-Length, Host\r\nContent-Length: 3\r\n\r\nabc`);
    assert.equal(post.status, 200);
    const posted = JSON.parse(post.body) as Echoed;
    assert.equal(posted.bodyBytes, 3);
    assert.equal(posted.headers.host, ECHO);
  });

  it('a WebSocket upgrade keeps Upgrade and Connection: Upgrade, and loses what Connection names', async () => {
    const before = ws.seen.length;
    const socket = net.connect(port, '127.0.0.1');
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        socket.once('connect', () =>
          socket.write(
            `GET /chat HTTP/1.1\r\nHost: ${WS}\r\nConnection: Upgrade, X-Secret\r\nX-Secret: for the router only\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
          ),
        );
        socket.once('data', (c: Buffer) => resolve(c.toString('latin1')));
        socket.once('error', reject);
        socket.setTimeout(10_000, () => reject(new Error('no upgrade answer')));
      });
      assert.match(answer, /^HTTP\/1\.1 101/);
    } finally {
      socket.destroy();
    }
    assert.equal(ws.seen.length, before + 1);
    const headers = ws.seen.at(-1)!;
    assert.equal(headers.upgrade, 'websocket');
    assert.match(String(headers.connection), /^upgrade$/i);
    assert.equal(headers['x-secret'], undefined);
  });

  it('strips the app\'s hop-by-hop response headers and every header its Connection names', async () => {
    const reply = await get(port, '/hop', [`Host: ${ECHO}`]);
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['x-app'], 'echo');
    for (const name of ['x-backend-secret', 'keep-alive', 'proxy-connection', 'upgrade', 'trailer', 'proxy-authenticate']) assert.equal(reply.headers[name], undefined, `${name} reached the client`);
    assert.equal(reply.headers.connection, 'close', 'Connection is the router\'s: the client asked to close');
  });

  it('an app closing its connection does not close the client\'s: Connection is per hop', async () => {
    // Two pipelined requests on one connection; the app answers the first with Connection: close.
    const reply = await rawRequest(port, `GET /close HTTP/1.1\r\nHost: ${ECHO}\r\n\r\nGET / HTTP/1.1\r\nHost: ${ECHO}\r\nConnection: close\r\n\r\n`);
    assert.equal(reply.status, 200);
    assert.equal(reply.headers.connection, 'keep-alive', 'the router keeps the client\'s connection');
    const answers = `${reply.body}`.match(/HTTP\/1\.1 200 OK/g) ?? [];
    assert.equal(answers.length, 1, 'the second request got its answer on the same connection');
    assert.match(reply.body, /"line":"GET \/ HTTP\/1\.1"/);

    // An HTTP/1.0 client asking for keep-alive keeps it, though its Connection never reaches the app.
    const old = await rawRequest(port, `GET / HTTP/1.0\r\nHost: ${ECHO}\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\nHost: ${ECHO}\r\n\r\n`);
    assert.equal(old.status, 200);
    assert.equal(old.headers.connection, 'keep-alive');
    assert.equal((old.body.match(/HTTP\/1\.1 200 OK/g) ?? []).length, 1, 'the second HTTP/1.0 request was answered on the same connection');
    assert.equal((JSON.parse(old.body.slice(0, old.body.indexOf('HTTP/1.1 200 OK'))) as Echoed).headers.connection, 'keep-alive', 'the router\'s own pool connection, not the client\'s header');
  });

  it('CONNECT gets the router\'s 405 with Allow and a body', async () => {
    const reply = await rawRequest(port, `CONNECT ${ECHO}:443 HTTP/1.1\r\nHost: ${ECHO}:443\r\n\r\n`);
    assert.equal(reply.status, 405);
    assert.equal(reply.headers[ROUTER_ERROR_HEADER], 'method-not-allowed');
    assert.match(reply.headers.allow ?? '', /^GET, HEAD, POST/);
    assert.doesNotMatch(reply.headers.allow ?? '', /CONNECT/);
    assert.equal(errorOf(reply).code, 'method-not-allowed');
    assert.match(errorOf(reply).message, /does not tunnel CONNECT/);
  });

  it('an untrusted client\'s forwarding headers are replaced by the router\'s own', async () => {
    const reply = await get(port, '/', [
      `Host: ${ECHO}`,
      'X-Forwarded-For: 203.0.113.9',
      'X-Forwarded-Proto: https',
      'X-Forwarded-Host: bank.example',
      'X-Forwarded-Port: 443',
      'Forwarded: for=203.0.113.9;proto=https;host=bank.example',
      'X-Request-Start: 1',
    ]);
    assert.equal(reply.status, 200);
    const { headers } = JSON.parse(reply.body) as Echoed;
    assert.equal(headers['x-forwarded-for'], '127.0.0.1', 'the client\'s address only');
    assert.equal(headers['x-forwarded-proto'], 'http', 'the router\'s listener scheme');
    assert.equal(headers['x-forwarded-host'], ECHO);
    assert.equal(headers['x-forwarded-port'], String(port));
    assert.equal(headers.forwarded, undefined);
    assert.match(String(headers['x-request-start']), /^\d{13}$/);

    // Several lines of X-Forwarded-For (node joins them) are one spoof all the same.
    const twice = await get(port, '/', [`Host: ${ECHO}`, 'X-Forwarded-For: 203.0.113.9', 'X-Forwarded-For: 198.51.100.7', 'X-Forwarded-Proto: https']);
    const got = (JSON.parse(twice.body) as Echoed).headers;
    assert.equal(got['x-forwarded-for'], '127.0.0.1');
    assert.equal(got['x-forwarded-proto'], 'http');
  });

  it('a trusted proxy\'s forwarding headers are kept, its address appended to X-Forwarded-For', async () => {
    const reply = await get(
      port,
      '/',
      [
        `Host: ${ECHO}`,
        'X-Forwarded-For: 203.0.113.9',
        'X-Forwarded-Proto: https',
        'X-Forwarded-Host: shop.example',
        'X-Forwarded-Port: 443',
        'Forwarded: for=203.0.113.9;proto=https;host=shop.example',
        'X-Request-Start: 1700000000000',
      ],
      TRUSTED_PEER,
    );
    assert.equal(reply.status, 200);
    const { headers } = JSON.parse(reply.body) as Echoed;
    assert.equal(headers['x-forwarded-for'], `203.0.113.9, ${TRUSTED_PEER}`);
    assert.equal(headers['x-forwarded-proto'], 'https');
    assert.equal(headers['x-forwarded-host'], 'shop.example');
    assert.equal(headers['x-forwarded-port'], '443');
    assert.equal(headers.forwarded, 'for=203.0.113.9;proto=https;host=shop.example');
    assert.equal(headers['x-request-start'], '1700000000000');

    const bare = await get(port, '/', [`Host: ${ECHO}`], TRUSTED_PEER);
    const filled = (JSON.parse(bare.body) as Echoed).headers;
    assert.equal(filled['x-forwarded-for'], TRUSTED_PEER, 'filled in when the proxy sent none');
    assert.equal(filled['x-forwarded-proto'], 'http');
  });

  it('refuses request smuggling and malformed header lines with 400, and no app sees them', async () => {
    const seen = appRequests();
    const cases: Array<[string, string]> = [
      ['Content-Length and Transfer-Encoding', `POST / HTTP/1.1\r\nHost: ${ECHO}\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
      ['two different Content-Lengths', `POST / HTTP/1.1\r\nHost: ${ECHO}\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd`],
      ['two equal Content-Lengths', `POST / HTTP/1.1\r\nHost: ${ECHO}\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc`],
      ['a Content-Length list', `POST / HTTP/1.1\r\nHost: ${ECHO}\r\nContent-Length: 3, 4\r\n\r\nabcd`],
      ['Transfer-Encoding twice', `POST / HTTP/1.1\r\nHost: ${ECHO}\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`],
      ['a Transfer-Encoding not ending in chunked', `POST / HTTP/1.1\r\nHost: ${ECHO}\r\nTransfer-Encoding: identity\r\n\r\nabc`],
      ['chunked, then another coding', `POST / HTTP/1.1\r\nHost: ${ECHO}\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n`],
      ['an obfuscated chunked', `POST / HTTP/1.1\r\nHost: ${ECHO}\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n`],
      ['a signed Content-Length', `POST / HTTP/1.1\r\nHost: ${ECHO}\r\nContent-Length: +3\r\n\r\nabc`],
      ['a negative Content-Length', `POST / HTTP/1.1\r\nHost: ${ECHO}\r\nContent-Length: -1\r\n\r\n`],
      ['an obs-fold continuation line', `GET / HTTP/1.1\r\nHost: ${ECHO}\r\nX-A: b\r\n c\r\n\r\n`],
      ['whitespace before the colon', `GET / HTTP/1.1\r\nHost : ${ECHO}\r\n\r\n`],
      ['whitespace before the colon of another header', `GET / HTTP/1.1\r\nHost: ${ECHO}\r\nX-A : b\r\n\r\n`],
    ];
    for (const [what, head] of cases) {
      const reply = await rawRequest(port, head);
      assert.equal(reply.status, 400, what);
      assert.equal(reply.headers[ROUTER_ERROR_HEADER], 'bad-request', what);
      assert.equal(reply.headers.connection, 'close', `${what}: the connection is closed`);
    }
    assert.equal(appRequests(), seen, 'no app saw any of them');
  });
});
