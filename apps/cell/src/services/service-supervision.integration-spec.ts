/**
 * The service manager's lifecycle on the fake runtime (containers that answer TCP on their host
 * port; kill: a crash now) against a real Redis (its own server and prefix): a host without the
 * server's binary fails the instance with what to install; a crash is reported with how it ended
 * and the server starts again after a backoff that doubles; a manager started again on the
 * registry re-adopts a running server, or starts one whose container is gone, on the same port.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { redisKeys, type ServiceState, type StartServiceJob } from '@paas/contracts';
import { freePort, pollUntil, type SupervisedProcess } from '@paas/local-services';
import { createRedisConnection, readServiceStates } from '@paas/redis';
import { FakeRuntime } from '@paas/runtime';
import { BlobClient } from '../blob-client';
import { startTestRedis } from '../cell-test-support';
import { serviceContainerIds } from './service-containers';
import { ServiceManager, type ServiceManagerConfig } from './service-manager';
import { fakeServiceProbes } from './service-probes';
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
    const host = { runtime, volumes: new DirectoryVolumes(config.servicesDir), serverInstalled: async () => installed, probes: fakeServiceProbes, blobs: new BlobClient('token') };
    const m = new ServiceManager(config, host, redis, keys, logger);
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
  const untilReportOf = (id: string, test: (s: ServiceState) => boolean) =>
    pollUntil(`${id} report`, async () => {
      const s = await state(id);
      return s && test(s) ? s : undefined;
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

  it('update-service restarts the server with the new sizes (reported, and counted for placement); a shrink or an unknown id fails and changes nothing', async () => {
    const runtime = fake();
    const m = manager(runtime);
    const id = 'e0000000-0006';
    assert.equal(await m.start(job(id)), 'running');
    assert.deepEqual([(await state(id))?.memoryMb, (await state(id))?.diskMb], [128, 64]);
    const server = serviceContainerIds('ss-c1', id).server;
    const pid = (await runtime.inspect(server))?.pid;
    assert.equal(await m.update({ serviceInstanceId: id, memoryMb: 512, diskMb: 128 }), 'running');
    assert.notEqual((await runtime.inspect(server))?.pid, pid, 'a new container');
    assert.equal(runtime.list().find((c) => c.spec.id === server)?.spec.memoryMb, 512);
    assert.equal(m.usedMemoryMb, 512);
    const reported = await untilState(id, 'running');
    assert.deepEqual([reported.memoryMb, reported.diskMb], [512, 128]);
    const after = (await runtime.inspect(server))?.pid;
    await assert.rejects(m.update({ serviceInstanceId: id, memoryMb: 512, diskMb: 100 }), /has a 128 MB volume and volumes never shrink: 100 MB is smaller/);
    await assert.rejects(m.update({ serviceInstanceId: 'e0000000-9999', memoryMb: 512, diskMb: 100 }), /service instance e0000000-9999 is not on cell cell-s/);
    assert.equal((await runtime.inspect(server))?.pid, after);
    assert.equal(await m.update({ serviceInstanceId: id, memoryMb: 512, diskMb: 256 }), 'running');
    assert.equal((await untilReportOf(id, (r) => r.diskMb === 256)).memoryMb, 512);
    await m.delete(id);
  });

  it('restore-service puts a checked snapshot in place and restarts the server; a wrong sha256 changes nothing', async () => {
    const snapshot = Buffer.concat([Buffer.from('REDIS0011'), randomBytes(100)]);
    const blobs = createServer((req, res) => (req.headers['x-paas-internal-token'] === 'token' ? res.end(snapshot) : res.writeHead(401).end()));
    await new Promise<void>((resolve) => blobs.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(blobs.address() as { port: number }).port}/internal/v1/blobs/backups/b1`;
      const runtime = fake();
      const m = manager(runtime);
      const id = 'f0000000-0007';
      assert.equal(await m.start(job(id)), 'running');
      const folder = join(config.servicesDir, 'volumes', id);
      await mkdir(join(folder, 'appendonlydir'));
      await writeFile(join(folder, 'appendonlydir', 'old.aof'), 'old');
      const sha256 = createHash('sha256').update(snapshot).digest('hex');
      const restore = { serviceInstanceId: id, backupId: 'b1000000-0001', backupUrl: url, sha256, sizeBytes: snapshot.length };
      await assert.rejects(m.restore({ ...restore, sha256: '0'.repeat(64) }), /has sha256 [a-f0-9]{64} where the backup has 0{64}: not restored/);
      assert.deepEqual(await readdir(join(folder, 'appendonlydir')), ['old.aof']);
      const pid = (await runtime.inspect(serviceContainerIds('ss-c1', id).server))?.pid;
      assert.equal(await m.restore(restore), 'running');
      assert.notEqual((await runtime.inspect(serviceContainerIds('ss-c1', id).server))?.pid, pid, 'started again');
      assert.deepEqual((await readdir(join(folder, 'appendonlydir'))).sort(), ['appendonly.aof.1.base.rdb', 'appendonly.aof.manifest']);
      assert.deepEqual(await readFile(join(folder, 'appendonlydir', 'appendonly.aof.1.base.rdb')), snapshot);
      assert.equal(await readFile(join(folder, 'appendonlydir', 'appendonly.aof.manifest'), 'utf8'), 'file appendonly.aof.1.base.rdb seq 1 type b\n');
      assert.deepEqual((await readdir(folder)).filter((n) => n.startsWith('.restore')), []);
      await assert.rejects(m.restore({ ...restore, serviceInstanceId: 'f0000000-9999' }), /service instance f0000000-9999 is not on cell/);
      await m.delete(id);
    } finally {
      await new Promise((resolve) => blobs.close(resolve));
    }
  });
});
