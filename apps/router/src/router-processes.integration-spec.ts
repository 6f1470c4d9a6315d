/**
 * Several router processes on one port (ROUTER_REUSE_PORT), each under its own supervisor as
 * the platform runs them: kill -9 of one fails only requests it had in flight while the other
 * keeps answering, and its supervisor brings it back; a rolling restart (start the new process,
 * wait until it is ready, drain the old) fails none, a slow request in flight included. Real
 * `dist/main.js` processes, a real redis-server, a real backend; every loop bounded.
 */
import { redisKeys, type Endpoint } from '@paas/contracts';
import { enableTcpMigrateReq, pidAlive, SupervisedProcess, startRequestLoop, type RequestLoopOptions } from '@paas/local-services';
import { registerEndpoint, writeHostRoutes } from '@paas/redis';
import { Redis } from 'ioredis';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from './integration-test-support';
import { request, startBackend, startRedisServer, type Backend, type RedisProcess } from '@paas/testing';
import { pollUntil } from '@paas/local-services';

const HOST = 'procs.apps.localhost';
const SLOW_HOST = 'slow.apps.localhost';
/** The loop: 4 clients on keep-alive connections, 4 on a new connection per request. */
const LOOP: Omit<RequestLoopOptions, 'port'> = { host: HOST, keepAliveClients: 4, freshClients: 4, maxRequests: 20_000, maxMs: 60_000 };
const CONCURRENCY = LOOP.keepAliveClients + LOOP.freshClients;


describe('router processes sharing one port', () => {
  const prefix = `test-procs-${randomUUID().slice(0, 8)}`;
  const keys = redisKeys(prefix);
  const dir = mkdtempSync(join(tmpdir(), 'router-procs-'));
  let redisProcess: RedisProcess | undefined;
  let redis: Redis | undefined;
  let backend: Backend | undefined;
  let slow: http.Server | undefined;
  let port: number;
  const adminPorts: number[] = [];
  const routers: SupervisedProcess[] = [];
  /** Every router pid seen, to check that none outlives the suite. */
  const pids = new Set<number>();

  const note = (proc: SupervisedProcess) => {
    if (proc.pid) pids.add(proc.pid);
    return proc.pid;
  };
  const healthOf = async (adminPort: number) => JSON.parse((await request(adminPort, 'admin', '/health')).body) as { status: string; pid: number };

  before(async () => {
    // As the platform does (tools/platform): queued connections of a closing listener move on.
    await enableTcpMigrateReq();
    redisProcess = await startRedisServer(dir);
    redis = new Redis(redisProcess.url, { maxRetriesPerRequest: 1 });
    backend = await startBackend('procs');
    slow = http.createServer((_req, res) => setTimeout(() => res.end('slow done'), 1_500));
    await new Promise<void>((resolve) => slow!.listen(0, '127.0.0.1', resolve));
    const endpoint = (appId: string, address: string): Endpoint => ({
      instanceId: `${appId}-0`,
      appId,
      processType: 'web',
      index: 0,
      address,
      cellId: 'cell-test',
      expiresAt: Date.now() + 600_000,
    });
    for (const [host, address] of [
      [HOST, backend.address],
      [SLOW_HOST, `127.0.0.1:${(slow.address() as AddressInfo).port}`],
    ] as const) {
      const appId = `app-${host}`;
      await registerEndpoint(redis, keys, endpoint(appId, address));
      await writeHostRoutes(redis, keys, host, [{ routeId: `route-${host}`, host, path: '', destinations: [{ id: `dest-${host}`, appId, processType: 'web', port: 8080 }] }]);
    }
    port = await freePort();
    for (let i = 0; i < 2; i++) {
      adminPorts.push(await freePort());
      const router = new SupervisedProcess({
        name: `router-${i + 1}`,
        command: process.execPath,
        args: [join(__dirname, 'main.js')],
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          REDIS_URL: redisProcess.url,
          PAAS_REDIS_PREFIX: prefix,
          ROUTER_PORT: String(port),
          ROUTER_HOST: '127.0.0.1',
          ROUTER_REUSE_PORT: 'true',
          ROUTER_ADMIN_PORT: String(adminPorts[i]),
          ROUTER_SHUTDOWN_TIMEOUT_MS: '5000',
          LOG_LEVEL: 'warn',
        },
        logFile: join(dir, `router-${i + 1}.log`),
        restart: true,
        readyMessage: 'paas-router:ready',
      });
      routers.push(router);
      router.start();
    }
    await Promise.all(routers.map((r) => r.whenReady(30_000)));
    routers.forEach(note);
  });

  after(async () => {
    await Promise.all(routers.map((r) => r.stop()));
    redis?.disconnect();
    await backend?.close();
    slow?.closeAllConnections();
    slow?.close();
    redisProcess?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('both listen on the one port, each with an admin port of its own', async () => {
    for (const [i, router] of routers.entries()) {
      const health = await healthOf(adminPorts[i]!);
      assert.deepEqual([health.status, health.pid], ['ok', router.pid], `router-${i + 1}'s admin port answers for it alone`);
    }
    // New connections are spread over both processes: each counts some of them.
    for (let i = 0; i < 40; i++) assert.equal((await request(port, HOST)).status, 200);
    for (const adminPort of adminPorts) {
      const metrics = (await request(adminPort, 'admin', '/metrics')).body;
      const served = /^paas_router_requests_total\{app_id="app-procs\.apps\.localhost",status_class="2xx"\} (\d+)/m.exec(metrics);
      assert.ok(served && Number(served[1]) > 0, `each process served some of 40 new connections:\n${metrics.slice(0, 400)}`);
    }
  });

  it('kill -9 of one fails at most its in-flight requests; the other keeps answering; the supervisor brings it back', async () => {
    const [victim] = routers as [SupervisedProcess];
    const loop = startRequestLoop({ ...LOOP, port });
    await pollUntil('the loop to get going', async () => (loop.ok() >= 100 ? true : undefined), { timeoutMs: 20_000 });
    const killed = victim.pid!;
    process.kill(killed, 'SIGKILL');
    const okAtKill = loop.ok();
    // Until its replacement is ready, only the other process listens: the loop goes on through it.
    await pollUntil('the supervisor to restart router-1', async () => (victim.pid !== undefined && victim.pid !== killed ? true : undefined), { timeoutMs: 20_000 });
    await victim.whenReady(30_000);
    const okWhileDown = loop.ok() - okAtKill;
    note(victim);
    await pollUntil('more answers after the restart', async () => (loop.ok() >= okAtKill + okWhileDown + 100 ? true : undefined), { timeoutMs: 20_000 });
    const result = await loop.stop();
    console.log(`kill -9 of 1 of 2 router processes: ${result.failed} failed / ${result.total}, longest gap without a success ${result.gapMs} ms`);
    assert.ok(result.failed <= CONCURRENCY, `at most the ${CONCURRENCY} in flight failed: ${result.failures.join('; ')}`);
    assert.ok(okWhileDown >= 20, `requests kept succeeding while router-1 was down (${okWhileDown})`);
    assert.equal(pidAlive(killed), false);
    assert.equal((await healthOf(adminPorts[0]!)).pid, victim.pid, 'the restarted process serves router-1\'s admin port');
  });

  it('a rolling restart (new process ready, then the old one drains) fails nothing, a slow request in flight included', async () => {
    const before = routers.map((r) => r.pid);
    const loop = startRequestLoop({ ...LOOP, port });
    await pollUntil('the loop to get going', async () => (loop.ok() >= 100 ? true : undefined), { timeoutMs: 20_000 });
    // Sent before the restart, answered by the backend 1.5 s later: the draining process finishes it.
    const slowAnswer = request(port, SLOW_HOST);
    for (const router of routers) {
      await router.replace(30_000);
      note(router);
    }
    const okAfter = loop.ok();
    await pollUntil('answers from the new processes', async () => (loop.ok() >= okAfter + 100 ? true : undefined), { timeoutMs: 20_000 });
    const result = await loop.stop();
    console.log(`rolling restart of 2 router processes: ${result.failed} failed / ${result.total}, longest gap without a success ${result.gapMs} ms`);
    assert.deepEqual(result.failures, [], 'no request failed');
    assert.equal(result.failed, 0);
    const slowReply = await slowAnswer;
    assert.deepEqual([slowReply.status, slowReply.body], [200, 'slow done'], 'the request in flight at the restart was finished');
    for (const [i, router] of routers.entries()) {
      assert.notEqual(router.pid, before[i], `router-${i + 1} runs a new process`);
      assert.equal(pidAlive(before[i]!), false, `the old router-${i + 1} exited`);
      assert.equal((await healthOf(adminPorts[i]!)).pid, router.pid);
    }
  });

  it('stop ends every router process, replacements included', async () => {
    await Promise.all(routers.map((r) => r.stop()));
    assert.ok(pids.size >= 5, `2 first, 1 restarted, 2 replacements: ${[...pids].join(', ')}`);
    assert.deepEqual([...pids].filter(pidAlive), [], 'no router process is left');
  });
});
