/**
 * The service manager's lifecycle on the fake runtime (containers that answer TCP on their host
 * port; kill: a crash now) against a real Redis (its own server and prefix): a host without the
 * server's binary fails the instance with what to install; a crash is reported with how it ended
 * and the server starts again after a backoff that doubles; a manager started again on the
 * registry re-adopts a running server, or starts one whose container is gone, on the same port.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { redisKeys, type ServiceState, type StartServiceJob } from '@paas/contracts';
import { freePort, pollUntil, type SupervisedProcess } from '@paas/local-services';
import { createRedisConnection, readServiceStates } from '@paas/redis';
import { FakeRuntime } from '@paas/runtime';
import { startTestRedis } from '../cell-test-support';
import { serviceContainerIds } from './service-containers';
import { ServiceManager, type ServiceManagerConfig } from './service-manager';
import { DirectoryVolumes } from './service-volumes';

describe('service supervision (fake runtime, real Redis)', () => {
  let tmp: string;
  let redisServer: SupervisedProcess;
  let redis: Redis;
  let config: ServiceManagerConfig;
  const keys = redisKeys(`ss${randomBytes(3).toString('hex')}`);
  const logger = pino({ level: 'silent' });
  const managers: ServiceManager[] = [];

  const manager = (runtime: FakeRuntime, installed = true): ServiceManager => {
    const m = new ServiceManager(config, { runtime, volumes: new DirectoryVolumes(config.servicesDir), serverInstalled: async () => installed }, redis, keys, logger);
    managers.push(m);
    return m;
  };
  const job = (serviceInstanceId: string, kind: StartServiceJob['kind'] = 'redis'): StartServiceJob => ({
    serviceInstanceId,
    kind,
    memoryMb: 128,
    diskMb: 64,
    adminUser: 'admin',
    adminPassword: 'b'.repeat(20),
    spaceId: 'space-1',
  });
  const state = async (id: string): Promise<ServiceState | undefined> => (await readServiceStates(redis, keys, [id])).get(id);
  const untilState = (id: string, wanted: ServiceState['state']) =>
    pollUntil(`${id} ${wanted}`, async () => {
      const s = await state(id);
      return s?.state === wanted ? s : undefined;
    }, { timeoutMs: 20_000, intervalMs: 10 });
  const fake = () => new FakeRuntime({ prefix: 'ss-c1', serveOn: '127.0.0.1' });

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'paas-service-supervision-'));
    await mkdir(join(tmp, 'logs'));
    const { url, server } = await startTestRedis(tmp);
    redisServer = server;
    redis = createRedisConnection(url, 'service-supervision-test');
    const base = await freePort();
    config = {
      cellId: 'cell-s',
      address: '127.0.0.1',
      containerPrefix: 'ss-c1',
      servicesDir: join(tmp, 'services'),
      servicePortRange: [base, base + 4],
      idMapping: { hostId: 1_000_000, size: 65_536 },
      startTimeoutMs: 10_000,
    };
  });

  after(async () => {
    for (const m of managers) m.close();
    redis?.disconnect();
    await redisServer?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it('a host without the server\'s binary fails the instance, saying what to install; it holds no memory', async () => {
    const m = manager(fake(), false);
    assert.equal(await m.start(job('f0000000-0001', 'postgresql')), 'failed');
    const failed = await state('f0000000-0001');
    assert.equal(failed?.state, 'failed');
    assert.match(failed?.error ?? '', /this cell's host has no postgresql server \(\/usr\/lib\/postgresql\/15\/bin\/postgres is missing\): install PostgreSQL 15/);
    assert.equal(failed?.port, config.servicePortRange[0], 'its port is allocated all the same');
    assert.equal(m.usedMemoryMb, 0);
    await m.delete('f0000000-0001');
    assert.equal(await state('f0000000-0001'), undefined);
  });

  it('a crash is reported with how it ended; the server starts again on its port, sooner the first time than the next', async () => {
    const runtime = fake();
    const m = manager(runtime);
    const id = 'c0000000-0002';
    assert.equal(await m.start(job(id)), 'running');
    assert.equal(m.usedMemoryMb, 128);
    const { port } = (await state(id))!;
    const gaps: number[] = [];
    for (const status of [3, 4]) {
      runtime.kill(serviceContainerIds('ss-c1', id).server, { status });
      const crashed = await untilState(id, 'crashed');
      const crashedAt = Date.now();
      assert.equal(crashed.error, `exited with status ${status}`);
      const running = await untilState(id, 'running');
      gaps.push(Date.now() - crashedAt);
      assert.equal(running.port, port);
    }
    assert.ok(gaps[0]! >= 900 && gaps[1]! >= 1900 && gaps[1]! > gaps[0]!, `backoff 1 s then 2 s: ${gaps.join(', ')} ms`);
    await m.delete(id);
  });

  it('a manager started again re-adopts a running server, and starts the one whose container is gone, on the same ports', async () => {
    const runtime = fake();
    const first = manager(runtime);
    await first.start(job('a0000000-0003'));
    await first.start(job('b0000000-0004'));
    const ports = [(await state('a0000000-0003'))!.port, (await state('b0000000-0004'))!.port];
    first.close();
    // b's container went while no agent ran.
    await runtime.destroy(serviceContainerIds('ss-c1', 'b0000000-0004').server);
    const adoptedPid = (await runtime.inspect(serviceContainerIds('ss-c1', 'a0000000-0003').server))?.pid;
    const second = manager(runtime);
    assert.equal(await second.recover(await runtime.recover()), 1);
    await untilState('b0000000-0004', 'running');
    await untilState('a0000000-0003', 'running');
    assert.equal((await runtime.inspect(serviceContainerIds('ss-c1', 'a0000000-0003').server))?.pid, adoptedPid, 'not restarted');
    assert.deepEqual([(await state('a0000000-0003'))!.port, (await state('b0000000-0004'))!.port], ports);
    await second.delete('a0000000-0003');
    await second.delete('b0000000-0004');
  });

  it('an initialised instance whose volume is gone fails, saying so, rather than starting empty', async () => {
    const runtime = fake();
    const first = manager(runtime);
    const id = 'd0000000-0005';
    assert.equal(await first.start(job(id)), 'running');
    first.close();
    await runtime.destroy(serviceContainerIds('ss-c1', id).server);
    await rm(join(config.servicesDir, 'volumes', id), { recursive: true });
    const second = manager(runtime);
    await second.recover(await runtime.recover());
    const failed = await untilState(id, 'failed');
    assert.match(failed.error ?? '', /its volume .*d0000000-0005 is gone, and the data with it: delete the service instance/);
    await second.delete(id);
  });
});
