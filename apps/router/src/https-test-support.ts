/**
 * Support for the router's HTTPS integration specs: a real redis-server, a test CA, the platform
 * secret key, a router with its TLS listener started in-process, and TLS clients. Test-only.
 */
import { redisKeys, type RedisKeys, type RouteEntry } from '@paas/contracts';
import { pollUntil } from '@paas/local-services';
import { publishCertificate, registerEndpoint, sealSecret, writeHostRoutes } from '@paas/redis';
import { startRedisServer, type RedisProcess } from '@paas/testing';
import { Redis } from 'ioredis';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import type { RouterConfig } from './config';
import { testRouterConfig } from './integration-test-support';
import { startRouter, type RunningRouter } from './router';
import { TestCa, type TestCertificate } from './tls-test-certificates';

export interface HttpsFixture {
  redis: Redis;
  keys: RedisKeys;
  ca: TestCa;
  secretKey: Buffer;
  router: RunningRouter;
  /** The router's TLS port. */
  httpsPort: number;
  /** Starts one more router on the same Redis (another process would do the same); closed by `close`. */
  startAnother(overrides?: Partial<RouterConfig>): Promise<RunningRouter>;
  /** Publishes `cert` as the controller does (key sealed with the platform key), under `id`. */
  publish(id: string, names: string[], cert: TestCertificate, notAfter?: number): Promise<void>;
  /** Binds the whole of `host` to one instance at `address`, with the route's HTTPS settings. */
  serve(host: string, address: string, settings?: Pick<RouteEntry, 'httpsRedirect' | 'hstsMaxAge'>): Promise<void>;
  close(): Promise<void>;
}

export async function startHttpsFixture(overrides: Partial<RouterConfig> = {}): Promise<HttpsFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'router-https-'));
  mkdirSync(join(dir, 'ca'));
  const prefix = `test-https-${randomUUID().slice(0, 8)}`;
  const keys = redisKeys(prefix);
  let redisProcess: RedisProcess | undefined;
  let redis: Redis | undefined;
  const routers: RunningRouter[] = [];
  const close = async () => {
    for (const r of routers.splice(0)) await r.close();
    redis?.disconnect();
    redisProcess?.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    redisProcess = await startRedisServer(dir);
    redis = new Redis(redisProcess.url, { maxRetriesPerRequest: 1 });
    const ca = new TestCa(join(dir, 'ca'));
    const secretKey = randomBytes(32);
    const url = redisProcess.url;
    const start = async (more: Partial<RouterConfig>) => {
      const router = await startRouter(testRouterConfig(url, prefix, { https: { port: 0, secretKey }, ...overrides, ...more }));
      routers.push(router);
      return router;
    };
    const router = await start({});
    const r = redis;
    let nextIndex = 0;
    return {
      redis: r,
      keys,
      ca,
      secretKey,
      router,
      httpsPort: router.httpsPort!,
      startAnother: start,
      publish: (id, names, cert, notAfter = cert.notAfter) => publishCertificate(r, keys, { id, names, chainPem: cert.chainPem, keySealed: sealSecret(secretKey, cert.keyPem), notAfter }),
      serve: async (host, address, settings = {}) => {
        const appId = `app-${host}`;
        await registerEndpoint(r, keys, { instanceId: `${appId}-0`, appId, processType: 'web', index: nextIndex++, address, cellId: 'cell-test', expiresAt: Date.now() + 600_000 });
        await writeHostRoutes(r, keys, host, [{ routeId: `route-${host}`, host, path: '', destinations: [{ id: `dest-${host}`, appId, processType: 'web', port: 8080 }], ...settings }]);
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

export type Handshake =
  | { ok: true; subjectAltName: string; serial: string; alpn: string | false | null; reused: boolean; protocol: string | null; session?: Buffer }
  | { ok: false; code: string };

/**
 * One TLS handshake with 127.0.0.1:port, trusting only `caPem`; resolves with what the server
 * presented (and its first session ticket, when `waitForSession`) or the error code.
 */
export function handshake(port: number, servername: string | undefined, caPem: string, options: tls.ConnectionOptions & { waitForSession?: boolean } = {}): Promise<Handshake> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...(servername ? { servername } : {}), ca: caPem, ALPNProtocols: ['h2', 'http/1.1'], ...options });
    let done = false;
    const finish = (result: Handshake) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ ok: false, code: 'TIMEOUT' }), 5_000);
    socket.once('error', (err: NodeJS.ErrnoException) => finish({ ok: false, code: err.code ?? err.message }));
    // TLS 1.2 hands out its ticket before 'secureConnect', TLS 1.3 after it.
    let session: Buffer | undefined;
    let connected: Extract<Handshake, { ok: true }> | undefined;
    socket.on('session', (s: Buffer) => {
      session = s;
      if (connected) finish({ ...connected, session });
    });
    socket.once('secureConnect', () => {
      const peer = socket.getPeerCertificate();
      connected = { ok: true as const, subjectAltName: peer.subjectaltname ?? '', serial: peer.serialNumber, alpn: socket.alpnProtocol, reused: socket.isSessionReused(), protocol: socket.getProtocol() };
      if (!options.waitForSession || session) finish({ ...connected, ...(session ? { session } : {}) });
    });
  });
}

/** Polls until a handshake for `servername` satisfies `ok` (certificate changes arrive by Redis). */
export function waitForHandshake(port: number, servername: string, caPem: string, what: string, ok: (h: Handshake) => boolean): Promise<Handshake> {
  return pollUntil(what, async () => {
    const h = await handshake(port, servername, caPem);
    return ok(h) ? h : undefined;
  }, { timeoutMs: 5_000, intervalMs: 25 });
}
