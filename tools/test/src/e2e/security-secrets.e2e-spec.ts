/**
 * Secrets at rest on a running platform, from the side of someone who has a foothold on the host
 * (another local user, a process without the passwords) or a tenant who pushed an app: the data
 * directory is root's alone, the platform's Redis and Postgres refuse a client without the
 * passwords, and after a real git push neither a password nor the internal token is found in any
 * log file, any process's command line, or the environment the app runs with.
 * (The variations, such as wrong passwords, rotation and upgrades of old data directories, are in
 * libs/local-services/src/data-services.integration-spec.ts.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { commitDir, git, startIsolatedPlatform, stopIsolatedPlatform, type TestPlatform } from '@paas/test-platform';
import { api, viaRouter } from './test-platform';
import { pollUntil } from '@paas/local-services';

const run = promisify(execFile);
const SECRET_FILES = ['admin-token', 'internal-token', 'redis-password', 'postgres-password'];

/** Runs a command with only PATH in its environment; resolves with its exit code and output. */
async function attempt(command: string, args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(command, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, timeout: 20_000 });
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('secrets at rest of a running platform', () => {
  let platform: TestPlatform;
  let work: string;
  let secrets: Map<string, string>;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'paas-e2e-secrets-'));
    platform = await startIsolatedPlatform(1);
    secrets = new Map();
    for (const name of SECRET_FILES) secrets.set(name, (await readFile(join(platform.dataDir, name), 'utf8')).trim());
  });

  after(async () => {
    const leftovers = await stopIsolatedPlatform(platform);
    await rm(work, { recursive: true, force: true });
    assert.deepEqual(leftovers, []);
  });

  test('the data directory is 0711 and its secret files 0600: another local user lists and reads none of them', async () => {
    assert.equal(((await stat(platform.dataDir)).mode & 0o777).toString(8), '711');
    const list = await attempt('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'ls', platform.dataDir]);
    assert.notEqual(list.code, 0, 'nobody listed the data directory');
    assert.match(list.out, /Permission denied/);
    for (const name of SECRET_FILES) {
      const file = join(platform.dataDir, name);
      assert.equal(((await stat(file)).mode & 0o777).toString(8), '600', name);
      const asNobody = await attempt('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'cat', file]);
      assert.notEqual(asNobody.code, 0, `nobody read ${name}`);
      assert.match(asNobody.out, /Permission denied/);
    }
  });

  test("the platform's Redis and Postgres refuse a client without the passwords, over TCP and the unix socket", async () => {
    const redisPort = new URL(platform.redisUrl).port;
    const postgresPort = new URL(platform.databaseUrl).port;
    assert.match((await attempt('redis-cli', ['-h', '127.0.0.1', '-p', redisPort, 'KEYS', '*'])).out, /NOAUTH/);
    for (const host of ['127.0.0.1', join(platform.dataDir, 'postgres')]) {
      const psql = await attempt('psql', ['-w', '-h', host, '-p', postgresPort, '-U', 'paas', '-d', 'paas', '-c', 'SELECT name FROM "User"']);
      assert.notEqual(psql.code, 0, `psql via ${host}: ${psql.out}`);
      assert.match(psql.out, /no password supplied/);
    }
  });

  test('after a git push, no password or token is in a log file, a command line or the app environment', async () => {
    assert.equal((await api(platform, 'POST', '/v1/apps', { name: 'envdump' })).status, 201);
    const dir = join(work, 'envdump');
    await run('mkdir', ['-p', dir]);
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'envdump', scripts: { start: 'node server.js' } }));
    await writeFile(
      join(dir, 'server.js'),
      "require('http').createServer((q, s) => s.end(JSON.stringify(process.env))).listen(process.env.PORT);\n",
    );
    await commitDir(dir);
    const push = await git(['push', `http://paas:${platform.adminToken}@127.0.0.1:${platform.controllerPort}/git/envdump.git`, 'main'], dir);
    assert.equal(push.code, 0, push.output);
    const env = await pollUntil('envdump through the router', async () => {
      const r = await viaRouter(platform, `envdump.${platform.appsDomain}`);
      return r.status === 200 ? r.text : undefined;
    }, { timeoutMs: 60_000 });
    assert.ok(JSON.parse(env).PORT, 'the app answered with its environment');

    const leaks: string[] = [];
    const check = (where: string, text: string) => {
      for (const [name, value] of secrets) if (name !== 'admin-token' && text.includes(value)) leaks.push(`${name} in ${where}`);
    };
    check('the app environment', env);
    check('the git push output', push.output);
    for (const file of await filesUnder(join(platform.dataDir, 'logs'))) check(file, await readFile(file, 'utf8'));
    for (const pid of await readdir('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      check(`the command line of pid ${pid}`, cmdline.replaceAll('\0', ' '));
    }
    assert.deepEqual(leaks, []);
  });

  test("after that push, neither another local user nor a process that broke out of a container (the cell's vcap host uid) lists or reads a tenant's source, droplet, build cache or logs", async () => {
    const cells = await readdir(join(platform.dataDir, 'cells'));
    const dirs = [
      'blobstore',
      'blobstore/repos',
      'blobstore/droplets',
      'logs',
      ...cells.flatMap((cell) => ['build-cache', 'droplets', 'staging', 'logs'].map((name) => `cells/${cell}/${name}`)),
    ];
    // The push above left something in each kind of folder.
    assert.ok((await readdir(join(platform.dataDir, 'blobstore', 'repos'))).includes('envdump.git'));
    const droplets = await readdir(join(platform.dataDir, 'blobstore', 'droplets'));
    assert.ok(droplets.length > 0, 'a droplet is in the blobstore');
    const escaped = (await readFile(`/proc/${await appPid()}/status`, 'utf8')).match(/^Uid:\s+(\d+)/m)![1]!;
    assert.notEqual(escaped, '0');
    for (const uid of ['65534', escaped]) {
      const as = (args: string[]) => attempt('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', ...args]);
      for (const dir of dirs) {
        const list = await as(['ls', join(platform.dataDir, dir)]);
        assert.notEqual(list.code, 0, `uid ${uid} listed ${dir}: ${list.out}`);
        assert.match(list.out, /Permission denied/, dir);
      }
      const droplet = await as(['cat', join(platform.dataDir, 'blobstore', 'droplets', droplets[0]!)]);
      assert.notEqual(droplet.code, 0, `uid ${uid} read a droplet`);
    }
  });

  /** The host pid of the pushed app's process (its container's init runs `bash -c`, the app below it). */
  async function appPid(): Promise<string> {
    for (const pid of await readdir('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
      if (environ.includes('VCAP_APPLICATION=') && environ.includes('"envdump"')) return pid;
    }
    throw new Error('no process of the envdump app found on the host');
  }
});
