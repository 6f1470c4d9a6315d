/**
 * A test run killed from outside (SIGKILL of the runner, a CI timeout) must not leave its private
 * platform running: the next run sweeps it. Here a child process starts an isolated platform with
 * one cell, a container runs on that cell, the child is killed with SIGKILL, and the platform's
 * controller, router processes (each of them), cell, Redis and Postgres, its container, bridge, chains and data directory
 * are still there until sweepAbandonedPlatforms removes every one of them.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { access, mkdir, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CELL_RUNTIME_RECORD } from '@paas/contracts';
import { RuncRuntime, VCAP_GID, VCAP_UID, type RuncRuntimeConfig } from '@paas/runtime';
import { forgetPlatform, PLATFORM_RECORDS_DIR, recordPlatform, sweepAbandonedPlatforms } from './abandoned-platforms';
import { hostLeftovers } from './isolated-platform';
import { DEFAULT_ROUTER_PROCESSES } from '@paas/platform';
import { createSimulatedHosts, removeSimulatedHosts } from './simulated-hosts';

const run = promisify(execFile);

/** Command lines of the processes whose command line or environment names `dir`, whose working directory is in it, or whose environment holds `env`. */
async function processesNaming(dir: string, env = '\0none'): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const read = (name: string) => readFile(`/proc/${entry}/${name}`, 'utf8').catch(() => '');
    const cmdline = await read('cmdline');
    const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => '');
    if (cwd.startsWith(dir) || `${cmdline}\0${await read('environ')}`.split('\0').some((part) => part.includes(dir) || part === env)) found.push(cmdline.replaceAll('\0', ' '));
  }
  return found;
}

const exists = (path: string) => access(path).then(() => true, () => false);

/** True once `pid` is gone or a zombie (its parent, pid 1, may reap it a little later), polling for up to 10 s. */
async function processEnds(pid: number): Promise<boolean> {
  for (let poll = 0; poll < 100; poll++) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
    if (stat === undefined || / Z /.test(stat.slice(stat.lastIndexOf(')')))) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

describe('a platform whose runner was killed is swept by the next run', () => {
  let runner: ChildProcess | undefined;

  after(async () => {
    if (runner && runner.exitCode === null && runner.signalCode === null) runner.kill('SIGKILL');
    await sweepAbandonedPlatforms(); // whatever a failed assertion below left
  });

  it('kill -9 of the runner leaves controller, router, cell, Redis, Postgres and a container; the sweep removes them all', async () => {
    const script = `
      const { startIsolatedPlatform } = require(${JSON.stringify(join(__dirname, 'isolated-platform.js'))});
      startIsolatedPlatform(1).then((p) => console.log('READY ' + JSON.stringify({ tag: p.tag, dataDir: p.dataDir })),
        (e) => { console.error(e); process.exit(1); });
      setInterval(() => undefined, 60_000);`;
    runner = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const started = await new Promise<{ tag: string; dataDir: string }>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`the platform did not start in 180 s: ${out}`)), 180_000);
      runner!.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const line = /READY (.*)/.exec(out);
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line[1]!) as { tag: string; dataDir: string });
        }
      });
      runner!.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
      runner!.on('exit', (code) => reject(new Error(`the runner exited (${code}): ${out}`)));
    });
    const { tag, dataDir } = started;
    assert.ok(await exists(join(PLATFORM_RECORDS_DIR, `platform-${tag}.json`)), 'the running platform is recorded');

    // A container on the platform's cell, as an app instance would be.
    const [cell] = await readdir(join(dataDir, 'cells'));
    const config = JSON.parse(await readFile(join(dataDir, 'cells', cell!, CELL_RUNTIME_RECORD), 'utf8')) as RuncRuntimeConfig;
    const runtime = new RuncRuntime(config);
    const container = await runtime.start({
      id: `${config.prefix}-swept`,
      layers: [],
      command: ['/bin/sleep', 'infinity'],
      cwd: '/',
      env: {},
      user: { uid: VCAP_UID, gid: VCAP_GID },
      memoryMb: 32,
      pidsLimit: 8,
      containerPort: 8080,
    });
    assert.equal((await runtime.inspect(container.id))?.state, 'running');

    runner.kill('SIGKILL');
    await new Promise((resolve) => runner!.once('exit', resolve));
    const orphans = await processesNaming(dataDir, `PAAS_REDIS_PREFIX=${tag}`);
    // Detached from the runner, its components live on (those that write to its closed log pipes die sooner or later).
    assert.ok(orphans.length > 0, 'the killed runner left orphans: what the sweep is for');
    const routers = orphans.filter((cmd) => cmd.includes('apps/router/dist/main.js'));
    assert.equal(routers.length, DEFAULT_ROUTER_PROCESSES, `every one of its router processes among them (they name no data dir): ${orphans.join(' | ')}`);
    assert.ok(orphans.some((cmd) => cmd.startsWith('redis-server')), `and its Redis (which rewrites its command line): ${orphans.join(' | ')}`);
    assert.ok((await hostLeftovers(tag)).length > 0, 'and so do its bridge and chains');

    await sweepAbandonedPlatforms();

    assert.deepEqual(await processesNaming(dataDir, `PAAS_REDIS_PREFIX=${tag}`), [], 'no process of the platform is left, its router included');
    assert.ok(await processEnds(container.pid), 'the container\'s process is gone');
    assert.deepEqual(await hostLeftovers(tag), [], 'no bridge, veth, netns or chain of it is left');
    // (Asked before anything of ours calls runc there again: runc makes its root dir when asked.)
    assert.equal(await exists(dataDir), false, 'its data directory is removed, container state and all');
    assert.equal(await exists(join(PLATFORM_RECORDS_DIR, `platform-${tag}.json`)), false, 'and its record');
  });

  it('a platform whose runner lives is never swept', async () => {
    const tag = `pt${process.pid.toString(16).slice(-4)}live`;
    const dataDir = await mkdtemp(join(tmpdir(), `paas-e2e-${tag}-`));
    await mkdir(PLATFORM_RECORDS_DIR, { recursive: true });
    await recordPlatform({ tag, pid: process.pid, dataDir });
    try {
      assert.ok(!(await sweepAbandonedPlatforms()).includes(tag));
      assert.ok(await exists(dataDir), 'the data directory of a live runner stays');
      assert.ok(await exists(join(PLATFORM_RECORDS_DIR, `platform-${tag}.json`)), 'and so does its record');
    } finally {
      await forgetPlatform(tag);
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("a dead runner's simulated hosts (their namespaces, veths and bridge) go with the sweep", async () => {
    const tag = `ps${randomBytes(2).toString('hex')}`;
    const hosts = await createSimulatedHosts(tag, 2);
    const dataDir = await mkdtemp(join(tmpdir(), `paas-e2e-${tag}-`));
    try {
      const dead = spawn(process.execPath, ['-e', '']);
      await once(dead, 'exit');
      await mkdir(PLATFORM_RECORDS_DIR, { recursive: true });
      await recordPlatform({ tag, pid: dead.pid!, dataDir });
      const named = async () => {
        const [netns, links] = await Promise.all([run('ip', ['netns', 'list']), run('ip', ['-o', 'link', 'show'])]);
        return `${netns.stdout}\n${links.stdout}`.split('\n').filter((line) => line.includes(`${tag}-h`));
      };
      assert.equal((await named()).length >= 5, true, 'two namespaces, two veths and the bridge exist before');
      assert.ok((await sweepAbandonedPlatforms()).includes(tag));
      assert.deepEqual(await named(), [], 'no namespace, veth or bridge of the tag is left');
      assert.equal(await exists(dataDir), false);
    } finally {
      await removeSimulatedHosts(hosts).catch(() => undefined);
      await forgetPlatform(tag);
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
