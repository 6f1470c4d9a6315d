/**
 * Resizing and restoring service instances on a real cell: the cell agent (in this process, its
 * own Redis, prefix, bridge, chain, ports and data dir) takes update-service and restore-service
 * jobs for the host's real postgres and redis-server in runc containers on loop-mounted volumes.
 * A resize grows the mounted filesystem (statfs), keeps the data and applies the new memory
 * limit (the cgroup's); a shrink fails and changes nothing. A restore from an RDB snapshot (made
 * with `redis-cli --rdb`, served by an HTTP server of the test as the blobstore would) gives the
 * snapshot's keys and none written after; a wrong sha256 or a snapshot that does not load fails
 * and the old data is served. Reports carry the sizes and the open connections.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, statfs } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis as RedisClient, type Redis } from 'ioredis';
import { Client } from 'pg';
import pino from 'pino';
import { CellJobName, redisKeys, type RestoreServiceJob, type ServiceState, type StartServiceJob, type UpdateServiceJob } from '@paas/contracts';
import { pollUntil, type SupervisedProcess } from '@paas/local-services';
import { createRedisConnection, readServiceStates } from '@paas/redis';
import { cleanupAll, hostVcapUser, RuncRuntime, releaseLayerImage } from '@paas/runtime';
import { CellAgent } from '../cell-agent';
import { runcHost, runcRuntimeConfig } from '../cell-host';
import { startTestRedis } from '../cell-test-support';
import { loadCellConfig, type CellConfig } from '../config';
import { serviceContainerIds } from './service-containers';

const suffix = randomBytes(2).toString('hex');
const PREFIX = `so${suffix}`;
const SERVICE_PORT_BASE = 63100 + randomInt(0, 90) * 10;
const APP_PORT_BASE = 36000 + randomInt(0, 300) * 20;
const MiB = 1024 * 1024;

describe('resizing and restoring service instances on a real cell (runc, postgres, redis-server)', { timeout: 15 * 60_000 }, () => {
  let tmp: string;
  let redisServer: SupervisedProcess;
  let redis: Redis;
  let queue: Queue;
  let config: CellConfig;
  let agent: CellAgent | undefined;
  let blobs: Server | undefined;
  let blobBase = '';
  const blobFiles = new Map<string, Buffer>();
  const keys = redisKeys(PREFIX);
  const logger = pino({ level: process.env.SERVICE_SPEC_LOG ?? 'silent' });
  const runtime = () => new RuncRuntime(runcRuntimeConfig(config));

  const state = async (id: string): Promise<ServiceState | undefined> => (await readServiceStates(redis, keys, [id])).get(id);
  const untilReport = (what: string, id: string, test: (s: ServiceState) => boolean, timeoutMs = 120_000): Promise<ServiceState> =>
    pollUntil(what, async () => {
      const current = await state(id);
      return current && test(current) ? current : undefined;
    }, { timeoutMs, intervalMs: 100 });
  /** Queues a job and waits for its end: its return value, or why it failed. */
  const runJob = async (name: string, data: object, jobId: string): Promise<{ value?: { ok: boolean; state: string; error?: string }; failed?: string }> => {
    await queue.add(name, data, { jobId });
    return pollUntil(`job ${jobId} done`, async () => {
      const done = await queue.getJob(jobId);
      if (done?.finishedOn === undefined) return undefined;
      return done.failedReason ? { failed: done.failedReason } : { value: done.returnvalue as { ok: boolean; state: string } };
    }, { timeoutMs: 240_000, intervalMs: 100 });
  };
  const serverPid = async (id: string): Promise<number> => {
    const status = await runtime().inspect(serviceContainerIds(PREFIX, id).server);
    assert.equal(status?.state, 'running');
    return status!.pid!;
  };
  const mountOf = (id: string) => join(config.servicesDir, 'mounts', id);
  const fsBytes = async (id: string) => {
    const fs = await statfs(mountOf(id));
    return fs.blocks * fs.bsize;
  };
  const memoryLimit = async (id: string) => (await runtime().stats(serviceContainerIds(PREFIX, id).server))?.memoryLimitBytes;
  const startJob = (serviceInstanceId: string, kind: StartServiceJob['kind']): StartServiceJob => ({
    serviceInstanceId,
    kind,
    memoryMb: 128,
    diskMb: 64,
    adminUser: 'admin_1',
    adminPassword: randomBytes(16).toString('hex'),
    spaceId: 'space-1',
  });
  /** Serves `body` as the blobstore would (it wants the cell's internal token); returns its URL. */
  const serveBlob = (name: string, body: Buffer): string => {
    blobFiles.set(`/internal/v1/blobs/backups/${name}`, body);
    return `${blobBase}/internal/v1/blobs/backups/${name}`;
  };

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'paas-service-ops-it-'));
    await chmod(tmp, 0o711);
    await mkdir(join(tmp, 'logs'));
    const { url, server } = await startTestRedis(tmp);
    redisServer = server;
    redis = createRedisConnection(url, 'service-ops-test');
    const internalToken = randomBytes(32).toString('hex');
    blobs = createServer((req, res) => {
      const body = blobFiles.get(req.url ?? '');
      if (req.headers['x-paas-internal-token'] !== internalToken) res.writeHead(401).end();
      else if (!body) res.writeHead(404).end();
      else res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((resolve) => blobs!.listen(0, '127.0.0.1', resolve));
    blobBase = `http://127.0.0.1:${(blobs.address() as { port: number }).port}`;
    config = loadCellConfig({
      CELL_ID: `so-${suffix}`,
      CELL_DATA_DIR: join(tmp, 'cell'),
      CELL_BRIDGE: PREFIX,
      CELL_SUBNET: `10.${randomInt(200, 250)}.${randomInt(1, 250)}.0/24`,
      CELL_PORT_RANGE: `${APP_PORT_BASE}-${APP_PORT_BASE + 19}`,
      CELL_SERVICE_PORTS: `${SERVICE_PORT_BASE}-${SERVICE_PORT_BASE + 9}`,
      CELL_IPTABLES_CHAIN: PREFIX.toUpperCase(),
      CELL_CONTAINER_PREFIX: PREFIX,
      CELL_CLEANUP_ON_EXIT: 'false',
      REDIS_URL: url,
      PAAS_REDIS_PREFIX: PREFIX,
      PAAS_INTERNAL_TOKEN: internalToken,
      PAAS_START_TIMEOUT_MS: '30000',
    });
    queue = new Queue(keys.cellQueue(config.id), { connection: redis });
    agent = new CellAgent(config, logger, runcHost(config));
    await agent.start();
  });

  after(async () => {
    await agent?.shutdown().catch(() => undefined);
    await queue?.close();
    redis?.disconnect();
    await redisServer?.stop();
    await new Promise((resolve) => (blobs ? blobs.close(resolve) : resolve(undefined)));
    if (config) {
      await cleanupAll(runcRuntimeConfig(config)).catch(() => undefined);
      const volumes = join(config.servicesDir, 'volumes');
      for (const name of await readdir(volumes).catch(() => [] as string[])) {
        await releaseLayerImage(join(volumes, name), mountOf(name.replace(/\.img$/, ''))).catch(() => undefined);
      }
    }
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('update-service and restore-service of an instance the cell does not have fail, naming it', async () => {
    const unknown = `00000000-${suffix}-0000-0000-00000000dead`;
    const update = await runJob(CellJobName.UpdateService, { serviceInstanceId: unknown, memoryMb: 256, diskMb: 128 } satisfies UpdateServiceJob, `update-unknown-${suffix}`);
    assert.match(update.failed ?? '', new RegExp(`service instance ${unknown} is not on cell ${config.id}`));
    const restore = await runJob(CellJobName.RestoreService, { serviceInstanceId: unknown, backupId: 'aaaaaaaa-0001', backupUrl: `${blobBase}/nothing`, sha256: 'a'.repeat(64), sizeBytes: 10 } satisfies RestoreServiceJob, `restore-unknown-${suffix}`);
    assert.match(restore.failed ?? '', new RegExp(`service instance ${unknown} is not on cell`));
  });

  describe('postgresql', () => {
    const pg = startJob(`a1b2c3d4-${suffix}-0000-0000-000000000011`, 'postgresql');
    const id = pg.serviceInstanceId;
    let port = 0;
    const query = async <T = Record<string, unknown>>(sql: string): Promise<T[]> =>
      pollUntil(`postgres answers on ${port}`, async () => {
        const client = new Client({ host: config.address, port, user: pg.adminUser, password: pg.adminPassword, database: 'postgres', connectionTimeoutMillis: 3000 });
        await client.connect();
        try {
          return (await client.query(sql)).rows as T[];
        } finally {
          await client.end();
        }
      }, { timeoutMs: 30_000, intervalMs: 200 });

    it('a resize grows the mounted volume and the memory limit, keeping the rows; the reports carry the sizes and an open session', async () => {
      await queue.add(CellJobName.StartService, pg, { jobId: `start-service-${id}` });
      port = (await untilReport('postgres running', id, (s) => s.state === 'running')).port;
      await query('CREATE TABLE notes (body text NOT NULL)');
      await query("INSERT INTO notes VALUES ('kept')");
      const first = await untilReport('a report with sizes', id, (s) => s.memoryMb !== undefined);
      assert.deepEqual([first.memoryMb, first.diskMb], [128, 64]);
      const before = await fsBytes(id);
      assert.ok(before < 64 * MiB, `${before}`);
      assert.equal(await memoryLimit(id), 128 * MiB);
      const session = new Client({ host: config.address, port, user: pg.adminUser, password: pg.adminPassword, database: 'postgres' });
      await session.connect();
      session.on('error', () => undefined);
      try {
        await untilReport('the open session counted', id, (s) => (s.connections ?? 0) >= 1, 30_000);
      } finally {
        await session.end().catch(() => undefined);
      }
      await untilReport('no session counted', id, (s) => s.connections === 0, 30_000);

      const pid = await serverPid(id);
      const resized = await runJob(CellJobName.UpdateService, { serviceInstanceId: id, memoryMb: 192, diskMb: 160 } satisfies UpdateServiceJob, `update-service-${id}-1`);
      assert.deepEqual(resized, { value: { ok: true, state: 'running' } });
      assert.notEqual(await serverPid(id), pid, 'started again for its new memory limit');
      assert.equal(await memoryLimit(id), 192 * MiB);
      const grown = await fsBytes(id);
      assert.ok(grown > before + 64 * MiB && grown <= 160 * MiB, `the filesystem grew: ${before} -> ${grown}`);
      assert.equal((await stat(join(config.servicesDir, 'volumes', `${id}.img`))).size, 160 * MiB);
      assert.deepEqual((await query<{ body: string }>('SELECT body FROM notes')).map((r) => r.body), ['kept']);
      const report = await untilReport('the new sizes reported', id, (s) => s.memoryMb === 192);
      assert.deepEqual([report.state, report.diskMb], ['running', 160]);
      const registry = JSON.parse(await readFile(join(config.servicesDir, 'registry', `${id}.json`), 'utf8')) as { job: StartServiceJob };
      assert.deepEqual([registry.job.memoryMb, registry.job.diskMb], [192, 160]);
    });

    it('a shrink fails, saying why, and changes nothing (the same server, volume, sizes)', async () => {
      const pid = await serverPid(id);
      const shrink = await runJob(CellJobName.UpdateService, { serviceInstanceId: id, memoryMb: 256, diskMb: 100 } satisfies UpdateServiceJob, `update-service-${id}-2`);
      assert.match(shrink.failed ?? '', /has a 160 MB volume and volumes never shrink: 100 MB is smaller \(choose a plan with at least 160 MB of disk\)/);
      assert.equal(await serverPid(id), pid);
      assert.equal(await memoryLimit(id), 192 * MiB);
      assert.equal((await stat(join(config.servicesDir, 'volumes', `${id}.img`))).size, 160 * MiB);
      assert.equal((await state(id))?.memoryMb, 192);
      assert.deepEqual((await query<{ body: string }>('SELECT body FROM notes')).map((r) => r.body), ['kept']);
      const restore = await runJob(CellJobName.RestoreService, { serviceInstanceId: id, backupId: 'bbbbbbbb-0001', backupUrl: `${blobBase}/x`, sha256: 'b'.repeat(64), sizeBytes: 10 } satisfies RestoreServiceJob, `restore-pg-${suffix}`);
      assert.match(restore.failed ?? '', /is a postgresql one: a cell restores redis instances only/);
      await queue.add(CellJobName.DeleteService, { serviceInstanceId: id }, { jobId: `delete-service-${id}` });
      await pollUntil('postgres gone', async () => (await state(id)) === undefined, { timeoutMs: 60_000 });
    });
  });

  describe('redis', () => {
    const rd = startJob(`e5f6a7b8-${suffix}-0000-0000-000000000012`, 'redis');
    const id = rd.serviceInstanceId;
    let port = 0;
    const asAdmin = async <T>(fn: (c: RedisClient) => Promise<T>): Promise<T> =>
      pollUntil(`redis answers on ${port}`, async () => {
        const c = new RedisClient({ host: config.address, port, username: rd.adminUser, password: rd.adminPassword, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        c.on('error', () => undefined);
        try {
          await c.connect();
          return await fn(c);
        } finally {
          c.disconnect();
        }
      }, { timeoutMs: 30_000, intervalMs: 200 });
    const allKeys = () => asAdmin(async (c) => Object.fromEntries(await Promise.all((await c.keys('*')).sort().map(async (k) => [k, await c.get(k)] as const))));
    /** An RDB snapshot of the running server, as the controller makes a backup (the password in the env, not argv). */
    const snapshot = async (): Promise<Buffer> => {
      const file = join(tmp, `snapshot-${randomBytes(4).toString('hex')}.rdb`);
      await promisify(execFile)('redis-cli', ['-h', config.address, '-p', String(port), '--user', rd.adminUser, '--rdb', file], { env: { ...process.env, REDISCLI_AUTH: rd.adminPassword } });
      return readFile(file);
    };
    const restoreJob = (backupId: string, body: Buffer, overrides: Partial<RestoreServiceJob> = {}): RestoreServiceJob => ({
      serviceInstanceId: id,
      backupId,
      backupUrl: serveBlob(backupId, body),
      sha256: createHash('sha256').update(body).digest('hex'),
      sizeBytes: body.length,
      ...overrides,
    });

    it('a resize keeps the keys, grows the volume and applies the new memory limit; the report counts an open client', async () => {
      await queue.add(CellJobName.StartService, rd, { jobId: `start-service-${id}` });
      port = (await untilReport('redis running', id, (s) => s.state === 'running')).port;
      await asAdmin((c) => c.set('before-resize', 'yes'));
      const client = new RedisClient({ host: config.address, port, username: rd.adminUser, password: rd.adminPassword });
      client.on('error', () => undefined);
      try {
        await client.ping();
        await untilReport('the open client counted', id, (s) => (s.connections ?? 0) >= 1, 30_000);
      } finally {
        client.disconnect();
      }
      const before = await fsBytes(id);
      const resized = await runJob(CellJobName.UpdateService, { serviceInstanceId: id, memoryMb: 160, diskMb: 96 } satisfies UpdateServiceJob, `update-service-${id}-1`);
      assert.deepEqual(resized, { value: { ok: true, state: 'running' } });
      assert.equal(await memoryLimit(id), 160 * MiB);
      assert.ok((await fsBytes(id)) > before + 20 * MiB, 'the filesystem grew');
      assert.equal(await asAdmin((c) => c.get('before-resize')), 'yes');
    });

    it('a restore gives the snapshot\'s keys and none written after; the files are vcap\'s, 0600, and nothing of the old data stays', async () => {
      await asAdmin(async (c) => {
        await c.set('a', 'one');
        return c.set('list', 'x');
      });
      const rdb = await snapshot();
      await asAdmin(async (c) => {
        await c.set('a', 'changed');
        return c.set('after-backup', 'gone after the restore');
      });
      const restored = await runJob(CellJobName.RestoreService, restoreJob('c0000000-0001', rdb), `restore-service-${id}-1`);
      assert.deepEqual(restored, { value: { ok: true, state: 'running' } });
      assert.deepEqual(await allKeys(), { a: 'one', 'before-resize': 'yes', list: 'x' });
      const data = mountOf(id);
      assert.deepEqual((await readdir(data)).filter((n) => n.startsWith('.restore')), [], 'no folder aside left');
      const aof = join(data, 'appendonlydir');
      const vcap = hostVcapUser(config.idMapping);
      const base = await stat(join(aof, 'appendonly.aof.1.base.rdb'));
      assert.deepEqual([base.uid, base.mode & 0o777, base.size], [vcap.uid, 0o600, rdb.length]);
      assert.match(await readFile(join(aof, 'appendonly.aof.manifest'), 'utf8'), /^file appendonly\.aof\.1\.base\.rdb seq 1 type b\n/);
      // Writes after the restore persist (the fresh incr file) across a restart of the server.
      await asAdmin((c) => c.set('after-restore', 'kept'));
      const again = await runJob(CellJobName.UpdateService, { serviceInstanceId: id, memoryMb: 128, diskMb: 96 } satisfies UpdateServiceJob, `update-service-${id}-2`);
      assert.deepEqual(again, { value: { ok: true, state: 'running' } });
      assert.equal(await asAdmin((c) => c.get('after-restore')), 'kept');
    });

    it('a download whose sha256 or size differs fails and changes nothing (the same server, the same keys)', async () => {
      const pid = await serverPid(id);
      const rdb = await snapshot();
      const wrongHash = await runJob(CellJobName.RestoreService, restoreJob('c0000000-0002', rdb, { sha256: 'f'.repeat(64) }), `restore-service-${id}-2`);
      assert.match(wrongHash.failed ?? '', /has sha256 [a-f0-9]{64} where the backup has f{64}: not restored, the data is as it was/);
      const wrongSize = await runJob(CellJobName.RestoreService, restoreJob('c0000000-0003', rdb, { sizeBytes: rdb.length - 1 }), `restore-service-${id}-3`);
      assert.match(wrongSize.failed ?? '', /longer than|has \d+ bytes where the backup has/);
      assert.equal(await serverPid(id), pid);
      assert.equal(await asAdmin((c) => c.get('after-restore')), 'kept');
    });

    it('a snapshot that does not load (right sha256, garbage) fails saying why; the old data is back and served', async () => {
      const garbage = Buffer.concat([Buffer.from('REDIS0011'), randomBytes(4096)]);
      const failed = await runJob(CellJobName.RestoreService, restoreJob('c0000000-0004', garbage), `restore-service-${id}-4`);
      assert.match(failed.failed ?? '', /the server did not run on the backup's snapshot \(.+\): not restored, its old data is back and served/);
      assert.equal((await untilReport('running again', id, (s) => s.state === 'running')).port, port);
      assert.equal(await asAdmin((c) => c.get('after-restore')), 'kept');
      assert.equal(await asAdmin((c) => c.get('a')), 'one');
      assert.deepEqual((await readdir(mountOf(id))).filter((n) => n.startsWith('.restore')), []);
      const notRdb = randomBytes(2048);
      const refused = await runJob(CellJobName.RestoreService, restoreJob('c0000000-0005', notRdb), `restore-service-${id}-5`);
      assert.match(refused.failed ?? '', /is not an RDB snapshot/);
      assert.equal(await asAdmin((c) => c.get('after-restore')), 'kept');
      // The cell's download folder is empty again.
      assert.deepEqual(await readdir(join(config.servicesDir, 'restores')), []);
    });
  });
});
