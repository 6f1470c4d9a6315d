/**
 * Requests through the router's TLS listener against real backends and a real redis-server:
 * HTTP/2 and HTTP/1.1 clients, X-Forwarded-Proto, WebSocket over TLS, https redirects, HSTS
 * and the well-known answers (ACME, domain verification) on hosts with and without routes.
 */
import { setWellKnownAnswer } from '@paas/redis';
import { request, startBackend, startWsEchoBackend, type Backend } from '@paas/testing';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import * as https from 'node:https';
import * as tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { pollUntil } from '@paas/local-services';
import { startHttpsFixture, waitForHandshake, type HttpsFixture } from './https-test-support';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP/2 request on its own connection; also says which protocol ALPN chose. */
function h2Request(port: number, host: string, caPem: string, path: string, method = 'GET', body?: Buffer): Promise<Reply & { alpn: string | false | null | undefined }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://${host}:${port}`, { ca: caPem, servername: host, host: '127.0.0.1' } as http2.SecureClientSessionOptions);
    session.on('error', reject);
    const stream = session.request({ ':method': method, ':path': path, ...(body ? { 'content-type': 'application/octet-stream' } : {}) });
    const chunks: Buffer[] = [];
    let headers: http2.IncomingHttpHeaders = {};
    stream.on('response', (h) => (headers = h));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', reject);
    stream.on('end', () => {
      const alpn = session.alpnProtocol;
      session.close();
      resolve({ status: Number(headers[':status']), headers, body: Buffer.concat(chunks).toString(), alpn });
    });
    stream.end(body);
  });
}

/** One HTTP/1.1 request over TLS (ALPN http/1.1 only) on its own connection. */
function h1TlsRequest(port: number, host: string, caPem: string, path: string, servername = host): Promise<Reply & { alpn: string | false | null }> {
  return new Promise((resolve, reject) => {
    const options: https.RequestOptions & tls.ConnectionOptions = { host: '127.0.0.1', port, path, servername, ca: caPem, headers: { host }, agent: false, ALPNProtocols: ['http/1.1'] };
    const req = https.request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), alpn: (res.socket as tls.TLSSocket).alpnProtocol }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('router TLS listener: requests', () => {
  let f: HttpsFixture;
  let backend: Backend;
  let ws: Backend;
  const lastSeen = () => backend.seen.at(-1)!;

  before(async () => {
    // Redirects name the port clients see (a port mapping's), not the one bound.
    f = await startHttpsFixture({ httpsPublicPort: 8443 });
    backend = await startBackend('app');
    ws = await startWsEchoBackend();
    await f.publish('apps', ['*.apps.test'], f.ca.issue(['*.apps.test']));
    await f.serve('web.apps.test', backend.address);
    await f.serve('secure.apps.test', backend.address, { httpsRedirect: true, hstsMaxAge: 300 });
    await f.serve('ws.apps.test', ws.address);
    await waitForHandshake(f.httpsPort, 'web.apps.test', f.ca.caPem, 'the apps certificate', (h) => h.ok);
  });
  after(async () => {
    await f?.close();
    await backend?.close();
    await ws?.close();
  });

  it('answers 421 for a host the connection\'s certificate does not cover, and serves one it covers', async () => {
    await f.publish('shop', ['shop.test'], f.ca.issue(['shop.test']));
    await f.serve('shop.test', backend.address);
    await waitForHandshake(f.httpsPort, 'shop.test', f.ca.caPem, 'the shop certificate', (h) => h.ok);
    const before = backend.seen.length;
    const crossed = await h1TlsRequest(f.httpsPort, 'web.apps.test', f.ca.caPem, '/x', 'shop.test');
    assert.equal(crossed.status, 421);
    assert.equal(crossed.headers['x-paas-router-error'], 'misdirected-request');
    assert.match(crossed.body, /opened for shop\.test .* does not cover web\.apps\.test/);
    const back = await h1TlsRequest(f.httpsPort, 'shop.test', f.ca.caPem, '/x', 'web.apps.test');
    assert.equal(back.status, 421, 'the wildcard does not cover shop.test');
    assert.equal(backend.seen.length, before, 'neither reached the app');
    // The wildcard's connection may carry any host it covers (HTTP/2 coalescing does this).
    const coalesced = await h1TlsRequest(f.httpsPort, 'web.apps.test', f.ca.caPem, '/y', 'other.apps.test');
    assert.equal(coalesced.status, 200);
    assert.equal(lastSeen().host, 'web.apps.test');
  });

  it('serves HTTP/2 (ALPN h2) through the same proxy path: Host from :authority, X-Forwarded-Proto https', async () => {
    const reply = await h2Request(f.httpsPort, 'web.apps.test', f.ca.caPem, '/h2/path?q=1');
    assert.equal(reply.alpn, 'h2');
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'hello from app');
    assert.ok(reply.headers['x-request-id'], 'the router\'s request id');
    assert.equal(reply.headers.connection, undefined, 'no connection-specific header in an HTTP/2 response');
    assert.equal(backend.paths.at(-1), '/h2/path?q=1');
    assert.equal(lastSeen().host, `web.apps.test:${f.httpsPort}`, 'the :authority as the client sent it');
    assert.equal(lastSeen()['x-forwarded-proto'], 'https');
    assert.equal(lastSeen()['x-forwarded-host'], `web.apps.test:${f.httpsPort}`);
    assert.equal(lastSeen()[':authority'], undefined, 'no pseudo-header reaches the backend');
  });

  it('proxies an HTTP/2 request with a body (POST)', async () => {
    const body = randomBytes(200_000);
    const reply = await h2Request(f.httpsPort, 'web.apps.test', f.ca.caPem, '/upload', 'POST', body);
    assert.equal(reply.status, 200);
    assert.equal(reply.body, `app got ${body.length} bytes ${createHash('sha256').update(body).digest('hex')}`);
  });

  it('serves HTTP/1.1 over TLS (ALPN http/1.1) with X-Forwarded-Proto https, plain HTTP with http', async () => {
    const reply = await h1TlsRequest(f.httpsPort, 'web.apps.test', f.ca.caPem, '/one');
    assert.equal(reply.alpn, 'http/1.1');
    assert.equal(reply.status, 200);
    assert.equal(lastSeen()['x-forwarded-proto'], 'https');
    const plain = await request(f.router.port, 'web.apps.test', '/one', { 'x-forwarded-proto': 'https' });
    assert.equal(plain.status, 200);
    assert.equal(lastSeen()['x-forwarded-proto'], 'http', 'a client cannot pass for https on plain HTTP');
  });

  it('redirects plain HTTP of a route with https_redirect by 308 to the same path and query on the public HTTPS port', async () => {
    const reply = await request(f.router.port, 'secure.apps.test', '/a/b?x=1&y=%20');
    assert.equal(reply.status, 308);
    assert.equal(reply.headers.location, 'https://secure.apps.test:8443/a/b?x=1&y=%20');
    assert.equal(reply.headers['strict-transport-security'], undefined, 'never HSTS on plain HTTP');
    const before = backend.paths.length;
    const post = await request(f.router.port, 'secure.apps.test', '/form', {}, Buffer.from('x'));
    assert.equal(post.status, 308, 'a 308 keeps the method: a POST is redirected too');
    assert.equal(backend.paths.length, before, 'the app saw none of them');
    assert.equal((await request(f.router.port, 'web.apps.test', '/')).status, 200, 'a route without the setting is served on HTTP');
  });

  it('sends HSTS (max-age only) on the HTTPS responses of a route that sets it, over HTTP/2 and HTTP/1.1', async () => {
    const h2 = await h2Request(f.httpsPort, 'secure.apps.test', f.ca.caPem, '/');
    assert.equal(h2.status, 200, 'no redirect on HTTPS');
    assert.equal(h2.headers['strict-transport-security'], 'max-age=300');
    const h1 = await h1TlsRequest(f.httpsPort, 'secure.apps.test', f.ca.caPem, '/');
    assert.equal(h1.headers['strict-transport-security'], 'max-age=300');
    const other = await h1TlsRequest(f.httpsPort, 'web.apps.test', f.ca.caPem, '/');
    assert.equal(other.headers['strict-transport-security'], undefined, 'only routes that set it');
  });

  it("replaces the app's own HSTS header with the route's, and passes it through on a route without the setting", async () => {
    const app = http.createServer((_req, res) => res.setHeader('strict-transport-security', 'max-age=5; includeSubDomains').end('own hsts'));
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    try {
      const address = `127.0.0.1:${(app.address() as AddressInfo).port}`;
      await f.serve('hsts.apps.test', address, { hstsMaxAge: 600 });
      await f.serve('own-hsts.apps.test', address);
      const routed = await pollUntil('hsts.apps.test to be routed', async () => {
        const r = await h2Request(f.httpsPort, 'hsts.apps.test', f.ca.caPem, '/');
        return r.body === 'own hsts' ? r : undefined;
      }, { timeoutMs: 5_000, intervalMs: 25 });
      assert.equal(routed.headers['strict-transport-security'], 'max-age=600');
      const own = await pollUntil('own-hsts.apps.test to be routed', async () => {
        const r = await h1TlsRequest(f.httpsPort, 'own-hsts.apps.test', f.ca.caPem, '/');
        return r.body === 'own hsts' ? r : undefined;
      }, { timeoutMs: 5_000, intervalMs: 25 });
      assert.equal(own.headers['strict-transport-security'], 'max-age=5; includeSubDomains');
    } finally {
      app.closeAllConnections();
      await new Promise<void>((resolve) => app.close(() => resolve()));
    }
  });

  it('answers well-known ACME and verification paths before routes, on a host without route; expired ones and other paths are not', async () => {
    const token = 'tok-123';
    await setWellKnownAnswer(f.redis, f.keys, 'fresh.example', `/.well-known/acme-challenge/${token}`, `${token}.thumbprint`, 60_000);
    await setWellKnownAnswer(f.redis, f.keys, 'Secure.Apps.Test', '/.well-known/paas-domain-verification/v1', 'v1', 60_000);
    await setWellKnownAnswer(f.redis, f.keys, 'fresh.example', '/.well-known/acme-challenge/old', 'old', 1_000, Date.now() - 10_000);
    const acme = await request(f.router.port, 'fresh.example', `/.well-known/acme-challenge/${token}`);
    assert.equal(acme.status, 200);
    assert.equal(acme.body, `${token}.thumbprint`);
    assert.match(String(acme.headers['content-type']), /^text\/plain/);
    // On a route with https_redirect: answered, not redirected (ACME HTTP-01 comes over HTTP).
    const verify = await request(f.router.port, 'secure.apps.test:8080', '/.well-known/paas-domain-verification/v1');
    assert.equal(verify.status, 200);
    assert.equal(verify.body, 'v1');
    assert.equal((await h2Request(f.httpsPort, 'secure.apps.test', f.ca.caPem, '/.well-known/paas-domain-verification/v1')).body, 'v1', 'and over HTTPS');
    assert.equal((await request(f.router.port, 'fresh.example', '/.well-known/acme-challenge/old')).status, 404, 'an expired answer is not served');
    assert.equal((await request(f.router.port, 'fresh.example', `/.well-known/acme-challenge/${token}x`)).status, 404, 'only the exact path');
    const appPath = await request(f.router.port, 'web.apps.test', '/.well-known/security.txt');
    assert.equal(appPath.status, 200, 'other /.well-known/ paths go to the app');
    assert.equal(backend.paths.at(-1), '/.well-known/security.txt');
  });

  it('proxies a WebSocket upgrade over HTTPS/1.1', async () => {
    const socket = tls.connect({ host: '127.0.0.1', port: f.httpsPort, servername: 'ws.apps.test', ca: f.ca.caPem, ALPNProtocols: ['http/1.1'] });
    try {
      await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      const key = randomBytes(16).toString('base64');
      socket.write(`GET /chat HTTP/1.1\r\nHost: ws.apps.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      let received = Buffer.alloc(0);
      const waitFor = (ok: (b: Buffer) => boolean) =>
        new Promise<void>((resolve, reject) => {
          const onData = (c: Buffer) => {
            received = Buffer.concat([received, c]);
            if (ok(received)) {
              socket.off('data', onData);
              resolve();
            }
          };
          socket.on('data', onData);
          socket.once('error', reject);
        });
      await waitFor((b) => b.includes('\r\n\r\n'));
      const head = received.toString('latin1', 0, received.indexOf('\r\n\r\n'));
      assert.match(head, /^HTTP\/1\.1 101/);
      received = received.subarray(received.indexOf('\r\n\r\n') + 4);
      assert.equal(ws.seen.at(-1)?.['x-forwarded-proto'], 'https');
      const mask = randomBytes(4);
      const payload = Buffer.from('ping over tls');
      socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, payload.map((b, i) => b ^ mask[i % 4]!)]));
      await waitFor((b) => b.length >= 2 + payload.length);
      assert.equal(received.subarray(2, 2 + payload.length).toString(), 'ping over tls');
    } finally {
      socket.destroy();
    }
  });

  it('drains the TLS listener on close: an idle HTTP/2 connection gets GOAWAY and the router stops without waiting for the timeout', async () => {
    const other = await f.startAnother();
    await waitForHandshake(other.httpsPort!, 'web.apps.test', f.ca.caPem, 'the other router to serve the certificate', (h) => h.ok);
    const session = http2.connect(`https://web.apps.test:${other.httpsPort}`, { ca: f.ca.caPem, host: '127.0.0.1' } as http2.SecureClientSessionOptions);
    session.on('error', () => undefined);
    const goaway = new Promise<void>((resolve) => session.once('goaway', () => resolve()));
    const closedSession = new Promise<void>((resolve) => session.once('close', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      const stream = session.request({ ':path': '/warm' });
      stream.on('error', reject).resume().on('end', resolve);
    });
    const started = Date.now();
    await other.close();
    await goaway;
    await closedSession;
    assert.ok(Date.now() - started < 1_500, `closed in ${Date.now() - started} ms, before the 2 s shutdown timeout`);
  });
});
