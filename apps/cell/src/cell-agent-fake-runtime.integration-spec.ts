/**
 * The real cell agent (apps/cell/dist/main.js, a process of its own) on the fake runtime
 * (CELL_RUNTIME=fake), against a real Redis: it announces itself, stages a source into a real
 * droplet (the fake runtime plays the buildpack), takes a start job from its queue, fetches and
 * unpacks that droplet, health-checks the instance over HTTP on its host port
 * (the fake container answers there) and reports it RUNNING, notices its stop, runs a service
 * instance (reported running on a port of its service range, its memory counted) and deletes it, and on SIGINT
 * withdraws and exits 0 without having made any bridge. What the controller's tests can run
 * instead of a hand-written cell.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { execFile } from 'node:child_process';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { CellJobName, redisKeys, type StageResult, type StartInstanceJob } from '@paas/contracts';
import { freePort, pollUntil, type SupervisedProcess } from '@paas/local-services';
import { createRedisConnection, listAppInstances, listLiveCells, readServiceStates } from '@paas/redis';
import { FAKE_BUILDPACK_WEB_COMMAND } from './fake-buildpack';
import { startTestRedis, testStartJob } from './cell-test-support';

const ROOT = resolve(__dirname, '..', '..', '..');
const execFileAsync = promisify(execFile);

describe('the cell agent on the fake runtime (its own process, real Redis)', () => {
  let tmp: string;
  let redisServer: SupervisedProcess;
  let redis: Redis;
  let queue: Queue;
  let droplets: Server;
  let cell: ChildProcess;
  let stderr = '';
  let portBase: number;
  const suffix = randomBytes(2).toString('hex');
  const cellId = `fk-${suffix}`;
  const bridge = `fk${suffix}`;
  const keys = redisKeys(`fk${suffix}`);
  const internalToken = randomBytes(32).toString('hex');

  const job = (instanceId: string, dropletUrl: string): StartInstanceJob =>
    testStartJob('app-fake', instanceId, { dropletUrl, memoryMb: 128, diskMb: 256, healthCheck: { type: 'http', endpoint: '/health', timeoutS: 10 } });
  const record = async (instanceId: string) => (await listAppInstances(redis, keys, 'app-fake')).find((i) => i.instanceId === instanceId);

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'paas-cell-fake-'));
    await mkdir(join(tmp, 'logs'));
    const { url: redisUrl, server } = await startTestRedis(tmp);
    redisServer = server;
    redis = createRedisConnection(redisUrl, 'cell-fake-test');
    queue = new Queue(keys.cellQueue(cellId), { connection: redis });
    // The blobstore, as the controller serves it to cells (internal token required): the source, the droplet the cell uploads.
    await mkdir(join(tmp, 'source'), { recursive: true });
    await writeFile(join(tmp, 'source', 'server.js'), 'console.log("never run by the fake runtime")\n');
    await writeFile(join(tmp, 'source', 'Procfile'), 'worker: node worker.js\n');
    await execFileAsync('tar', ['-cf', join(tmp, 'source.tar'), '-C', join(tmp, 'source'), '.']);
    const blobs = new Map<string, Buffer>([['/sources/s1', await readFile(join(tmp, 'source.tar'))]]);
    droplets = createServer((req, res) => {
      if (req.headers['x-paas-internal-token'] !== internalToken) return void res.writeHead(403).end();
      if (req.method === 'PUT') {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          blobs.set(req.url!, Buffer.concat(chunks));
          res.writeHead(201).end();
        });
        return;
      }
      const blob = blobs.get(req.url!);
      res.writeHead(blob ? 200 : 404).end(blob);
    });
    await new Promise<void>((done) => droplets.listen(0, '127.0.0.1', done));
    portBase = await freePort();
    cell = spawn(process.execPath, [join(ROOT, 'apps', 'cell', 'dist', 'main.js')], {
      env: {
        PATH: process.env.PATH,
        CELL_RUNTIME: 'fake',
        CELL_ID: cellId,
        CELL_DATA_DIR: join(tmp, 'cell'),
        CELL_BRIDGE: bridge,
        CELL_SUBNET: '10.253.9.0/24',
        CELL_PORT_RANGE: `${portBase}-${portBase + 9}`,
        CELL_SERVICE_PORTS: `${portBase + 10}-${portBase + 19}`,
        CELL_IPTABLES_CHAIN: `FK-${suffix.toUpperCase()}`,
        CELL_CONTAINER_PREFIX: `fk${suffix}`,
        REDIS_URL: redisUrl,
        PAAS_REDIS_PREFIX: `fk${suffix}`,
        PAAS_INTERNAL_TOKEN: internalToken,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    cell.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  });

  after(async () => {
    if (cell && cell.exitCode === null && cell.signalCode === null) cell.kill('SIGKILL');
    await queue?.close();
    redis?.disconnect();
    droplets?.close();
    await redisServer?.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  it('announces itself live', async () => {
    await pollUntil(`cell ${cellId} live (${stderr})`, async () => (await listLiveCells(redis, keys)).some((c) => c.id === cellId), { timeoutMs: 20_000, intervalMs: 50 });
  });

  it('stages a source into a droplet: the fake buildpack names itself and the web default, the Procfile adds its types', async () => {
    const blobUrl = `http://127.0.0.1:${(droplets.address() as { port: number }).port}`;
    const subscriber = redis.duplicate();
    const lines: string[] = [];
    const ended = new Promise<StageResult>((done) => {
      subscriber.on('message', (_channel, text: string) => {
        const message = JSON.parse(text) as { type: string; text?: string; result?: StageResult };
        if (message.type === 'line') lines.push(message.text!);
        else done(message.result!);
      });
    });
    await subscriber.subscribe(keys.buildLog('b-1'));
    try {
      await queue.add(CellJobName.Stage, { buildId: 'b-1', appId: 'app-fake', appName: 'fake', sourceUrl: `${blobUrl}/sources/s1`, dropletUploadUrl: `${blobUrl}/droplets/d1`, memoryMb: 256, env: {} });
      const result = await ended;
      assert.deepEqual(result, { ok: true, buildpack: 'nodejs', startCommand: FAKE_BUILDPACK_WEB_COMMAND, processTypes: { web: FAKE_BUILDPACK_WEB_COMMAND, worker: 'node worker.js' } }, `${stderr}\n${lines.join('\n')}`);
      assert.ok(lines.some((line) => /^-----> nodejs \(fake buildpack/.test(line)), lines.join('\n'));
    } finally {
      subscriber.disconnect();
    }
  });

  it('starts an instance of that droplet from its queue: unpacked, HTTP health check passed on its host port, RUNNING with its address', async () => {
    const blobUrl = `http://127.0.0.1:${(droplets.address() as { port: number }).port}`;
    await queue.add(CellJobName.StartInstance, job('i-1', `${blobUrl}/droplets/d1`));
    await pollUntil(`i-1 RUNNING (${stderr})`, async () => (await record('i-1'))?.state === 'RUNNING', { timeoutMs: 20_000, intervalMs: 50 });
    const running = await record('i-1');
    assert.match(running?.address ?? '', new RegExp(`^127\\.0\\.0\\.1:${portBase}$`));
    const res = await fetch(`http://${running!.address}/`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), `fake container fk${suffix}-i-1\n`);
    const layer = join(tmp, 'cell', 'droplets', 'droplet-1', 'home', 'vcap', 'app');
    assert.match(await readFile(join(layer, 'server.js'), 'utf8'), /never run by the fake runtime/, 'the staged source is the layer');
  });

  it('stops it on a stop job: its record is forgotten and nothing answers on its port', async () => {
    await queue.add(CellJobName.StopInstance, { instanceId: 'i-1', appId: 'app-fake', reason: 'scaled down' });
    await pollUntil('i-1 forgotten', async () => (await record('i-1')) === undefined, { timeoutMs: 20_000, intervalMs: 50 });
    await assert.rejects(fetch(`http://127.0.0.1:${portBase}/`));
  });

  it('runs a service instance from its start-service job: running on a port of its service range, its memory in the presence; delete-service forgets it', async () => {
    const serviceInstanceId = `5e41ce00-${suffix}-0000-0000-000000000001`;
    const state = async () => (await readServiceStates(redis, keys, [serviceInstanceId])).get(serviceInstanceId);
    await queue.add(CellJobName.StartService, { serviceInstanceId, kind: 'postgresql', memoryMb: 256, diskMb: 1024, adminUser: 'admin', adminPassword: 'a'.repeat(24), spaceId: 'space-1' });
    await pollUntil(`service running (${stderr})`, async () => (await state())?.state === 'running', { timeoutMs: 20_000, intervalMs: 50 });
    const running = await state();
    assert.deepEqual([running?.cellId, running?.host, running?.port, running?.error], [cellId, '127.0.0.1', portBase + 10, undefined]);
    await pollUntil('its memory counted', async () => (await listLiveCells(redis, keys)).find((c) => c.id === cellId)?.usedMemoryMb === 256, { timeoutMs: 20_000, intervalMs: 50 });
    await queue.add(CellJobName.DeleteService, { serviceInstanceId });
    await pollUntil('service report gone', async () => (await state()) === undefined, { timeoutMs: 20_000, intervalMs: 50 });
    await pollUntil('its memory freed', async () => (await listLiveCells(redis, keys)).find((c) => c.id === cellId)?.usedMemoryMb === 0, { timeoutMs: 20_000, intervalMs: 50 });
  });

  it('on SIGINT withdraws and exits 0; it made no bridge', async () => {
    const exited = new Promise<number | null>((done) => cell.once('exit', (code) => done(code)));
    cell.kill('SIGINT');
    assert.equal(await exited, 0, stderr);
    assert.equal((await listLiveCells(redis, keys)).some((c) => c.id === cellId), false);
    await assert.rejects(execFileAsync('ip', ['link', 'show', bridge]), 'no bridge');
  });
});
