/**
 * The TaskRunner with real runc (as root): a droplet tarball made here, served by a local blob
 * server on 127.0.0.1, run as one-off tasks: output lines, exit codes, the env contract, timeout,
 * stop, and cleanup (no container, no unpacked droplet left).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import pino from 'pino';
import type { RunTaskJob } from '@paas/contracts';
import { cleanupAll, ensureStack, RuncRuntime, VCAP_UID, type RuncRuntimeConfig, testRuntimeConfig } from '@paas/runtime';
import { BlobClient } from './blob-client';
import { DropletCache } from './droplet-cache';
import { TaskRunner } from './task-runner';

const execFileAsync = promisify(execFile);
const exists = (path: string) => stat(path).then(() => true, () => false);

/** The release command of the test droplet: prints what a release phase sees of its container. */
const MIGRATE_SH = `#!/bin/sh
echo "migrating"
echo "PORT=\${PORT:-unset}"
echo "CF_INSTANCE_PORT=\${CF_INSTANCE_PORT:-unset}"
echo "CF_INSTANCE_GUID=$CF_INSTANCE_GUID"
echo "INSTANCE_INDEX=$INSTANCE_INDEX"
echo "MEMORY_LIMIT=$MEMORY_LIMIT"
echo "DATABASE_URL=$DATABASE_URL"
echo "GREETING=\${GREETING:-unset}"
echo "VCAP_SERVICES=$VCAP_SERVICES"
echo "VCAP_APPLICATION=$VCAP_APPLICATION"
echo "UID=$(id -u)"
echo "PWD=$(pwd)"
echo "done" >&2
`;

const suffix = randomBytes(2).toString('hex');
const name = `tr${suffix}`;
const portBase = 30000 + randomInt(0, 300) * 100;
const token = randomBytes(32).toString('hex');

describe('TaskRunner (real runc, as root)', () => {
  let tmp: string;
  let config: RuncRuntimeConfig;
  let droplets: DropletCache;
  let runner: TaskRunner;
  let server: Server;
  let dropletUrl: string;

  const job = (taskId: string, command: string, overrides: Partial<RunTaskJob> = {}): RunTaskJob => ({
    taskId,
    appId: 'app-1',
    appName: 'shop',
    spaceId: 'space-1',
    spaceName: 'prod',
    orgName: 'acme',
    releaseId: 'rel-2',
    processType: 'release',
    dropletId: 'droplet-1',
    dropletUrl,
    command,
    memoryMb: 128,
    diskMb: 256,
    timeoutS: 60,
    env: { DATABASE_URL: 'postgres://db.internal/shop', PORT: '1' },
    uris: ['shop.apps.localhost'],
    ...overrides,
  });

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'paas-task-it-'));
    config = testRuntimeConfig(name, tmp, portBase);
    await ensureStack(config.stackDir);
    // The droplet: what a stager packs (`app/` with the app and its .profile.d).
    const src = join(tmp, 'src');
    await mkdir(join(src, 'app', '.profile.d'), { recursive: true });
    await writeFile(join(src, 'app', 'migrate.sh'), MIGRATE_SH);
    await chmod(join(src, 'app', 'migrate.sh'), 0o755);
    await writeFile(join(src, 'app', '.profile.d', 'greeting.sh'), 'export GREETING=from-profile-d\n');
    const tarball = join(tmp, 'droplet.tgz');
    await execFileAsync('tar', ['-czf', tarball, '-C', src, 'app']);
    server = createServer((req, res) => {
      if (req.headers['x-paas-internal-token'] !== token || req.url !== '/droplets/droplet-1') {
        res.statusCode = 404;
        res.end();
        return;
      }
      createReadStream(tarball).pipe(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    dropletUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/droplets/droplet-1`;
    droplets = new DropletCache(join(tmp, 'droplets'), new BlobClient(token));
    runner = new TaskRunner(new RuncRuntime(config), droplets, name, pino({ level: 'silent' }), () => false);
  });

  after(async () => {
    try {
      await cleanupAll(config);
    } finally {
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('runs the command to completion with the env contract minus PORT, streaming its lines', async () => {
    const lines: string[] = [];
    const result = await runner.run(job('task-ok', './migrate.sh'), (line) => lines.push(line));
    assert.equal(result.exitCode, 0, lines.join('\n'));
    assert.equal(result.reason, undefined);
    const seen = Object.fromEntries(lines.filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    assert.equal(lines[0], 'migrating');
    assert.ok(lines.includes('done'), 'stderr is streamed too');
    assert.equal(seen.PORT, 'unset', 'a task has no PORT (the app env cannot set it either)');
    assert.equal(seen.CF_INSTANCE_PORT, 'unset');
    assert.equal(seen.CF_INSTANCE_GUID, 'task-ok');
    assert.equal(seen.INSTANCE_INDEX, '0');
    assert.equal(seen.MEMORY_LIMIT, '128m');
    assert.equal(seen.DATABASE_URL, 'postgres://db.internal/shop');
    assert.equal(seen.GREETING, 'from-profile-d', '.profile.d is sourced, as for instances');
    assert.equal(seen.VCAP_SERVICES, '{}');
    assert.equal(seen.UID, String(VCAP_UID));
    assert.equal(seen.PWD, '/home/vcap/app');
    const vcap = JSON.parse(seen.VCAP_APPLICATION) as Record<string, unknown>;
    assert.equal(vcap.process_type, 'release');
    assert.equal(vcap.application_name, 'shop');
    assert.equal(vcap.space_name, 'prod');
    assert.deepEqual(vcap.uris, ['shop.apps.localhost']);
    assert.deepEqual(vcap.limits, { mem: 128, disk: 256, fds: 16384 });
    assert.ok(result.lastLines.includes('PWD=/home/vcap/app') && result.lastLines.includes('done'), JSON.stringify(result.lastLines));
    // Nothing is left: the container is gone, the unpacked droplet evicted (no instance uses it).
    assert.equal(runner.count, 0);
    assert.equal(await exists(droplets.layerDir('droplet-1')), false);
    assert.equal(await exists(join(config.stateDir, 'containers', runner.containerIdOf('task-ok'))), false);
  });

  it('reports a non-zero exit with the last lines', async () => {
    const lines: string[] = [];
    const result = await runner.run(job('task-fail', "echo 'step 1'; echo 'ERROR: relation \"users\" already exists' >&2; exit 7"), (l) => lines.push(l));
    assert.equal(result.exitCode, 7);
    assert.equal(result.reason, undefined);
    // stdout and stderr are two pipes: their lines may interleave either way.
    assert.deepEqual([...result.lastLines].sort(), ['ERROR: relation "users" already exists', 'step 1']);
    assert.deepEqual(lines, result.lastLines);
  });

  it('kills a command that outlives its timeout', async () => {
    const result = await runner.run(job('task-slow', 'echo waiting; sleep 30', { timeoutS: 1 }), () => undefined);
    assert.equal(result.reason, 'timeout');
    assert.notEqual(result.exitCode, 0);
    assert.deepEqual(result.lastLines, ['waiting']);
    assert.ok(result.durationMs < 15_000, `ended after ${result.durationMs} ms`);
  });

  it('stop() ends a running task, reported as canceled; stop of an unknown task is a no-op', async () => {
    let sawStart!: () => void;
    const started = new Promise<void>((resolve) => (sawStart = resolve));
    const running = runner.run(job('task-stop', 'echo started; sleep 60'), (line) => line === 'started' && sawStart());
    await started;
    assert.equal(runner.usedMemoryMb, 128, 'a running task counts against the cell');
    const t0 = Date.now();
    assert.equal(await runner.stop('task-stop', 'deployment canceled'), true);
    const result = await running;
    assert.equal(result.reason, 'canceled');
    assert.ok(Date.now() - t0 < 15_000);
    assert.equal(await runner.stop('task-stop', 'again'), false);
    assert.equal(await runner.stop('never-ran', 'x'), false);
  });

  it('a droplet that cannot be fetched is reported as an error, not a crash of the cell', async () => {
    const result = await runner.run(job('task-404', 'true', { dropletId: 'droplet-404', dropletUrl: dropletUrl.replace('droplet-1', 'missing') }), () => undefined);
    assert.equal(result.exitCode, -1);
    assert.equal(result.reason, 'error');
    assert.match(result.error ?? '', /HTTP 404/);
  });
});
