/**
 * Backing services on a real cell: the cell agent (in this process, its own Redis, prefix,
 * bridge, chain, ports and data dir) takes start-service and delete-service jobs from its queue
 * and runs the host's real postgres and redis-server in runc containers on loop-mounted volumes.
 * Each server reports `running`, takes the admin's login at the cell's address and its host port,
 * keeps its data across an agent restart (re-adopted) and a crash of its process (crashed, then
 * started again), is reached from an app container bound to it (at the bridge gateway, through
 * REDIS_URL) and from no unbound one, and leaves nothing behind once deleted.
 */
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { access, chmod, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis as RedisClient, type Redis } from 'ioredis';
import { Client } from 'pg';
import pino from 'pino';
import { CellJobName, redisKeys, type BoundService, type ServiceState, type StartServiceJob } from '@paas/contracts';
import { pollUntil, type SupervisedProcess } from '@paas/local-services';
import { createRedisConnection, readServiceStates } from '@paas/redis';
import { cleanupAll, RuncRuntime, releaseLayerImage, VCAP_GID, VCAP_UID } from '@paas/runtime';
import { appEnvironment } from '../app-env';
import { CellAgent } from '../cell-agent';
import { EgressPolicy } from '../egress-policy';
import { runcHost, runcRuntimeConfig } from '../cell-host';
import { startTestRedis } from '../cell-test-support';
import { loadCellConfig, type CellConfig } from '../config';
import { serviceContainerIds } from './service-containers';

const suffix = randomBytes(2).toString('hex');
const PREFIX = `sv${suffix}`;
const SERVICE_PORT_BASE = 62100 + randomInt(0, 90) * 10;
const APP_PORT_BASE = 30000 + randomInt(0, 300) * 20;

describe('service instances on a real cell (runc, postgres, redis-server)', { timeout: 15 * 60_000 }, () => {
  let tmp: string;
  let redisServer: SupervisedProcess;
  let redis: Redis;
  let queue: Queue;
  let config: CellConfig;
  let agent: CellAgent | undefined;
  const keys = redisKeys(`sv${suffix}`);
  const logger = pino({ level: process.env.SERVICE_SPEC_LOG ?? 'silent' });
  const runtime = () => new RuncRuntime(runcRuntimeConfig(config));
  const timings: Record<string, number> = {};

  const state = async (id: string): Promise<ServiceState | undefined> => (await readServiceStates(redis, keys, [id])).get(id);
  const untilState = async (id: string, wanted: ServiceState['state'], timeoutMs = 120_000): Promise<ServiceState> =>
    pollUntil(
      `service ${id} ${wanted}`,
      async () => {
        const current = await state(id);
        return current?.state === wanted ? current : undefined;
      },
      { timeoutMs, intervalMs: 50 },
    );
  const startAgent = async () => {
    agent = new CellAgent(config, logger, runcHost(config));
    await agent.start();
  };
  /** The agent goes away as a SIGINT'd one without cleanupOnExit does: its containers keep running. */
  const stopAgent = async () => {
    await agent?.shutdown();
    agent = undefined;
  };
  const serverPid = async (id: string): Promise<number> => {
    const status = await runtime().inspect(serviceContainerIds(PREFIX, id).server);
    assert.equal(status?.state, 'running');
    return status!.pid!;
  };
  /** The server's own process: the container's first process (redis-server), or its one child (the postmaster under its supervising shell). */
  const serverProcess = async (id: string): Promise<number> => {
    const init = await serverPid(id);
    const children = (await readFile(`/proc/${init}/task/${init}/children`, 'utf8')).trim().split(/\s+/).filter(Boolean).map(Number);
    return children.length === 1 ? children[0]! : init;
  };
  const job = (serviceInstanceId: string, kind: StartServiceJob['kind']): StartServiceJob => ({
    serviceInstanceId,
    kind,
    memoryMb: 256,
    diskMb: 256,
    adminUser: 'admin_1',
    adminPassword: randomBytes(16).toString('hex'),
    spaceId: 'space-1',
  });
  const exists = (path: string) => access(path).then(() => true, () => false);

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'paas-services-it-'));
    await chmod(tmp, 0o711);
    await mkdir(join(tmp, 'logs'));
    const { url, server } = await startTestRedis(tmp);
    redisServer = server;
    redis = createRedisConnection(url, 'services-test');
    config = loadCellConfig({
      CELL_ID: `sv-${suffix}`,
      CELL_DATA_DIR: join(tmp, 'cell'),
      CELL_BRIDGE: PREFIX,
      CELL_SUBNET: `10.${randomInt(200, 250)}.${randomInt(1, 250)}.0/24`,
      CELL_PORT_RANGE: `${APP_PORT_BASE}-${APP_PORT_BASE + 19}`,
      CELL_SERVICE_PORTS: `${SERVICE_PORT_BASE}-${SERVICE_PORT_BASE + 9}`,
      CELL_IPTABLES_CHAIN: PREFIX.toUpperCase(),
      CELL_CONTAINER_PREFIX: PREFIX,
      CELL_CLEANUP_ON_EXIT: 'false',
      REDIS_URL: url,
      PAAS_REDIS_PREFIX: `sv${suffix}`,
      PAAS_INTERNAL_TOKEN: randomBytes(32).toString('hex'),
    });
    queue = new Queue(keys.cellQueue(config.id), { connection: redis });
    await startAgent();
  });

  after(async () => {
    await stopAgent().catch(() => undefined);
    await queue?.close();
    redis?.disconnect();
    await redisServer?.stop();
    if (config) {
      await cleanupAll(runcRuntimeConfig(config)).catch(() => undefined);
      // The volumes are unmounted before their folder goes (rm would empty a mounted one).
      const volumes = join(config.servicesDir, 'volumes');
      for (const name of await readdir(volumes).catch(() => [] as string[])) {
        await releaseLayerImage(join(volumes, name), join(config.servicesDir, 'mounts', name.replace(/\.img$/, ''))).catch(() => undefined);
      }
    }
    if (tmp) await rm(tmp, { recursive: true, force: true });
    if (Object.keys(timings).length) console.log(`service timings (ms): ${JSON.stringify(timings)}`);
  });

  /** After delete-service: no report, container, volume image, mount or registry entry. */
  const assertGone = async (id: string) => {
    await pollUntil(`service ${id} report gone`, async () => (await state(id)) === undefined, { timeoutMs: 60_000, intervalMs: 50 });
    assert.equal(await runtime().inspect(serviceContainerIds(PREFIX, id).server), undefined, 'no container');
    assert.equal(await exists(join(config.servicesDir, 'volumes', `${id}.img`)), false, 'no volume image');
    assert.equal(await exists(join(config.servicesDir, 'mounts', id)), false, 'no mount point');
    assert.equal(await exists(join(config.servicesDir, 'registry', `${id}.json`)), false, 'no registry entry');
  };

  describe('postgresql', () => {
    const pg = job(`a1b2c3d4-${suffix}-0000-0000-000000000001`, 'postgresql');
    const id = pg.serviceInstanceId;
    let port = 0;
    const query = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> =>
      pollUntil(
        `postgres answers on ${config.address}:${port}`,
        async () => {
          const client = new Client({ host: config.address, port, user: pg.adminUser, password: pg.adminPassword, database: 'postgres', connectionTimeoutMillis: 3000 });
          await client.connect();
          try {
            return (await client.query(sql, params)).rows as T[];
          } finally {
            await client.end();
          }
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );

    it('starts from its job (volume, initdb, server), reports running at the cell address and a port of its range, and takes the admin login', async () => {
      const startedAt = Date.now();
      await queue.add(CellJobName.StartService, pg, { jobId: `start-service-${id}` });
      const running = await untilState(id, 'running');
      timings.postgresFirstStart = Date.now() - startedAt;
      assert.equal(running.host, config.address);
      assert.equal(running.cellId, config.id);
      assert.ok(running.port >= SERVICE_PORT_BASE && running.port <= SERVICE_PORT_BASE + 9, `port ${running.port}`);
      port = running.port;
      await query('CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL)');
      await query("INSERT INTO notes (body) VALUES ('one'), ('two'), ('three')");
      const [who] = await query<{ current_user: string; superuser: string }>("SELECT current_user, current_setting('is_superuser') AS superuser");
      assert.deepEqual(who, { current_user: pg.adminUser, superuser: 'on' });
      await assert.rejects(
        (async () => {
          const client = new Client({ host: config.address, port, user: pg.adminUser, password: 'wrong-password', database: 'postgres' });
          try {
            await client.connect();
          } finally {
            await client.end().catch(() => undefined);
          }
        })(),
        /password authentication failed/,
      );
      const files = await readdir(join(config.servicesDir, 'mounts', id));
      assert.ok(files.includes('pgdata') && !files.includes('.admin-password'), `the pwfile is gone after initdb: ${files.join(' ')}`);
      const usage = await pollUntil('a report with usage', async () => {
        const current = await state(id);
        return current?.diskUsedBytes !== undefined && current.memoryBytes !== undefined ? current : undefined;
      }, { timeoutMs: 30_000, intervalMs: 200 });
      assert.ok(usage.diskUsedBytes! > 10 * 1024 * 1024, 'pgdata is on the volume');
    });

    it('keeps running through an agent restart (re-adopted, the same server), with its rows', async () => {
      const [before] = await query<{ started: string }>('SELECT pg_postmaster_start_time()::text AS started');
      const pid = await serverPid(id);
      await stopAgent();
      const restartedAt = Date.now();
      await startAgent();
      await untilState(id, 'running');
      timings.agentRestartToRunning = Date.now() - restartedAt;
      assert.equal(await serverPid(id), pid, 'the same container process');
      const [after] = await query<{ started: string }>('SELECT pg_postmaster_start_time()::text AS started');
      assert.equal(after!.started, before!.started);
      assert.deepEqual((await query<{ body: string }>('SELECT body FROM notes ORDER BY id')).map((r) => r.body), ['one', 'two', 'three']);
    });

    it('a killed server is reported crashed with how it ended, then runs again on the same port with its rows', async () => {
      const postmaster = await serverProcess(id);
      assert.notEqual(postmaster, await serverPid(id), 'the postmaster runs under its supervising shell');
      process.kill(postmaster, 'SIGKILL');
      const killedAt = Date.now();
      const crashed = await untilState(id, 'crashed', 30_000);
      assert.match(crashed.error ?? '', /killed by signal 9 \(SIGKILL\)/);
      const running = await untilState(id, 'running');
      timings.postgresCrashToRunning = Date.now() - killedAt;
      assert.equal(running.port, port);
      assert.deepEqual((await query<{ body: string }>('SELECT body FROM notes ORDER BY id')).map((r) => r.body), ['one', 'two', 'three']);
    });

    it('the same start job again changes nothing; delete-service removes container, volume, registry entry and report (twice is fine)', async () => {
      const pid = await serverPid(id);
      await queue.add(CellJobName.StartService, pg, { jobId: `start-service-${id}-again` });
      await pollUntil('the repeated job done', async () => (await queue.getJob(`start-service-${id}-again`))?.finishedOn !== undefined, { timeoutMs: 30_000, intervalMs: 50 });
      assert.equal(await serverPid(id), pid);
      // A session open while the server stops is ended by a fast shutdown, not waited for (postgres's own SIGTERM would).
      const session = new Client({ host: config.address, port, user: pg.adminUser, password: pg.adminPassword, database: 'postgres' });
      await session.connect();
      const ended = new Promise<Error>((resolve) => session.once('error', resolve));
      await queue.add(CellJobName.DeleteService, { serviceInstanceId: id }, { jobId: `delete-service-${id}` });
      assert.match((await ended).message, /terminating connection due to administrator command/);
      await session.end().catch(() => undefined);
      await assertGone(id);
      await queue.add(CellJobName.DeleteService, { serviceInstanceId: id }, { jobId: `delete-service-${id}-again` });
      const repeated = await pollUntil('the repeated delete done', async () => {
        const done = await queue.getJob(`delete-service-${id}-again`);
        return done?.finishedOn !== undefined ? done : undefined;
      }, { timeoutMs: 30_000, intervalMs: 50 });
      assert.equal(repeated.failedReason, undefined);
      await assertGone(id);
    });
  });

  describe('redis', () => {
    const rd = job(`e5f6a7b8-${suffix}-0000-0000-000000000002`, 'redis');
    const id = rd.serviceInstanceId;
    let port = 0;
    const client = (options: { username?: string; password?: string } = {}) =>
      new RedisClient({ host: config.address, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, ...options });
    const asAdmin = async <T>(fn: (c: RedisClient) => Promise<T>): Promise<T> =>
      pollUntil(`redis answers the admin on ${config.address}:${port}`, async () => {
        const c = client({ username: rd.adminUser, password: rd.adminPassword });
        try {
          await c.connect();
          return await fn(c);
        } finally {
          c.disconnect();
        }
      }, { timeoutMs: 30_000, intervalMs: 200 });

    it('starts, takes the admin\'s AUTH and refuses the default user', async () => {
      const startedAt = Date.now();
      await queue.add(CellJobName.StartService, rd, { jobId: `start-service-${id}` });
      const running = await untilState(id, 'running');
      timings.redisFirstStart = Date.now() - startedAt;
      port = running.port;
      assert.equal(await asAdmin((c) => c.set('greeting', 'hello')), 'OK');
      // No ready check (its INFO would be refused before the test's command).
      const anonymous = new RedisClient({ host: config.address, port, lazyConnect: true, enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
      anonymous.on('error', () => undefined);
      try {
        await anonymous.connect();
        await assert.rejects(anonymous.get('greeting'), /NOAUTH/);
        await assert.rejects(anonymous.auth('default', 'anything'), /WRONGPASS/, 'the default user is off');
        await assert.rejects(anonymous.auth(rd.adminUser, 'not-the-password'), /WRONGPASS/);
        assert.equal(await anonymous.auth(rd.adminUser, rd.adminPassword), 'OK');
        assert.equal(await anonymous.get('greeting'), 'hello');
      } finally {
        anonymous.disconnect();
      }
    });

    it('keeps its data and the users the admin saved (ACL SAVE) across an agent restart and a killed server (AOF on the volume)', async () => {
      // What the controller does for a binding: a user of its own, saved to the ACL file on the volume.
      await asAdmin(async (c) => {
        await c.call('ACL', 'SETUSER', 'b_1', 'reset', 'on', '>binding-password-1', '~*', '+@all');
        return c.call('ACL', 'SAVE');
      });
      await stopAgent();
      await startAgent();
      await untilState(id, 'running');
      assert.equal(await asAdmin((c) => c.get('greeting')), 'hello');
      process.kill(await serverProcess(id), 'SIGKILL');
      const crashed = await untilState(id, 'crashed', 30_000);
      assert.match(crashed.error ?? '', /killed by signal 9/);
      await untilState(id, 'running');
      assert.equal(await asAdmin((c) => c.get('greeting')), 'hello');
      const binding = client({ username: 'b_1', password: 'binding-password-1' });
      try {
        await binding.connect();
        assert.equal(await binding.get('greeting'), 'hello');
      } finally {
        binding.disconnect();
      }
    });

    it('an app container bound to it reaches it with REDIS_URL (its loopback host rewritten to the bridge gateway); an unbound one does not', async () => {
      const bound: BoundService = {
        label: 'redis',
        name: 'cache',
        plan: 'small',
        tags: ['redis'],
        instanceId: id,
        bindingId: 'binding-1',
        urlVariable: 'REDIS_URL',
        credentials: { host: config.address, port, username: 'b_1', password: 'binding-password-1', uri: `redis://b_1:binding-password-1@${config.address}:${port}` },
        endpoint: { host: config.address, port },
      };
      const gateway = config.subnet.replace(/\.0\/24$/, '.1');
      const policy = new EgressPolicy({ gateway });
      /** Runs redis-cli GET in an app container given `services`, against `uri` (its REDIS_URL when bound). */
      const getFrom = async (name: string, services: BoundService[], uri?: string) => {
        const seen = policy.boundServices(services);
        const env = appEnvironment({ appId: 'a1', appName: 'app', spaceId: 's1', spaceName: 'dev', orgName: 'acme', uris: [], index: 0, instanceId: name, memoryMb: 64, diskMb: 64, processType: 'web', env: {}, services: seen });
        const lines: string[] = [];
        const result = await runtime().run(
          {
            id: `${PREFIX}-${name}`,
            layers: [],
            command: ['/bin/sh', '-c', 'timeout 5 /usr/bin/redis-cli -u "$1" --no-auth-warning GET greeting', 'sh', uri ?? env.REDIS_URL ?? ''],
            cwd: '/',
            env,
            user: { uid: VCAP_UID, gid: VCAP_GID },
            memoryMb: 64,
            pidsLimit: 16,
            egress: policy.running([], seen),
          },
          { timeoutMs: 30_000, onLine: (line) => lines.push(line) },
        );
        return { exitCode: result.exitCode, output: lines.join('\n'), env };
      };
      const withBinding = await getFrom('app-bound', [bound]);
      assert.equal(withBinding.env.REDIS_URL, `redis://b_1:binding-password-1@${gateway}:${port}`, 'the gateway, not 127.0.0.1');
      assert.equal(JSON.parse(withBinding.env.VCAP_SERVICES!).redis[0].credentials.host, gateway);
      assert.deepEqual([withBinding.exitCode, withBinding.output], [0, 'hello']);
      // The same URL, without the binding's egress allowance: the server is not reached.
      const unbound = await getFrom('app-unbound', [], withBinding.env.REDIS_URL);
      assert.equal(unbound.env.REDIS_URL, undefined);
      assert.ok(unbound.exitCode !== 0 && !unbound.output.includes('hello'), `exit ${unbound.exitCode}: ${unbound.output}`);
    });

    it('delete-service leaves nothing behind', async () => {
      await queue.add(CellJobName.DeleteService, { serviceInstanceId: id }, { jobId: `delete-service-${id}` });
      await assertGone(id);
    });
  });
});
