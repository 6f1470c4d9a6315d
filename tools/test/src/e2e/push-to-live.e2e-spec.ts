/**
 * The walking skeleton, as a user does it: create an app over the API, `git push` it with the
 * real git client, reach it through the router, break a build, delete the app.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROUTER_ERROR_HEADER } from '@paas/contracts';
import { api, viaRouter } from './test-platform';
import { ROOT, commitDir, git, hostLeftovers, startIsolatedPlatform, stopIsolatedPlatform, type TestPlatform } from '@paas/test-platform';
import { pollUntil } from '@paas/local-services';

const run = promisify(execFile);

describe('git push to live', () => {
  let platform: TestPlatform;
  let work: string;
  const remote = (name: string, token = platform.adminToken) =>
    `http://paas:${token}@127.0.0.1:${platform.controllerPort}/git/${name}.git`;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'paas-e2e-work-'));
    platform = await startIsolatedPlatform(2);
  });

  after(async () => {
    const stopStarted = Date.now();
    const leftovers = await stopIsolatedPlatform(platform);
    console.log(`platform stopped in ${Date.now() - stopStarted} ms`);
    await rm(work, { recursive: true, force: true });
    assert.deepEqual(leftovers, [], 'stopping the platform leaves no bridge, veth, netns or iptables rule behind');
  });

  test('app names are validated, duplicates refused, and a token is required', async () => {
    for (const bad of ['../x', 'Hello', 'a'.repeat(64), '', '-x']) {
      const r = await api(platform, 'POST', '/v1/apps', { name: bad });
      assert.equal(r.status, 400, `name ${JSON.stringify(bad)} is refused`);
      assert.equal(r.json.error.code, 'validation-failed');
      assert.match(r.json.error.message, /lowercase DNS label/);
    }
    const created = await api(platform, 'POST', '/v1/apps', { name: 'dup' });
    assert.equal(created.status, 201);
    const again = await api(platform, 'POST', '/v1/apps', { name: 'dup' });
    assert.equal(again.status, 409);
    assert.match(again.json.error.message, /already exists/);
    const anonymous = await api(platform, 'POST', '/v1/apps', { name: 'anon' }, null);
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.json.error.message, /Authorization: Bearer/);
    const wrong = await api(platform, 'GET', '/v1/apps', undefined, 'not-a-token');
    assert.equal(wrong.status, 401);
  });

  test('a host no app is bound to gets the router own 404', async () => {
    const r = await viaRouter(platform, `nobody.${platform.appsDomain}`);
    assert.equal(r.status, 404);
    assert.ok(r.headers.get(ROUTER_ERROR_HEADER), 'the router marks the error as its own');
    assert.match(r.text, /nobody\.apps\.localhost/);
  });

  test('pushes to an unknown app or with a wrong token fail with a clear message', async () => {
    const dir = join(work, 'unknown');
    await cp(join(ROOT, 'examples', 'hello-node'), dir, { recursive: true });
    await commitDir(dir);
    const unknown = await git(['push', remote('nosuchapp'), 'main'], dir);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.output, /no app named nosuchapp/);
    await api(platform, 'POST', '/v1/apps', { name: 'guarded' });
    const badToken = await git(['push', remote('guarded', 'wrong-token'), 'main'], dir);
    assert.notEqual(badToken.code, 0);
    assert.match(badToken.output, /Authentication failed|401/);
  });

  test('a repository without package.json or Procfile is rejected: no buildpack detected', async () => {
    assert.equal((await api(platform, 'POST', '/v1/apps', { name: 'nobp' })).status, 201);
    const dir = join(work, 'nobp');
    await rm(dir, { recursive: true, force: true });
    await run('mkdir', ['-p', dir]);
    await writeFile(join(dir, 'README.md'), 'just text\n');
    await commitDir(dir);
    const push = await git(['push', remote('nobp'), 'main'], dir);
    assert.notEqual(push.code, 0, push.output);
    assert.match(push.output, /remote: .*no buildpack detected/);
    assert.match(push.output, /package\.json|Procfile/);
  });

  test('git push deploys hello-node into a container, reachable through the router; a failed build keeps it running; delete frees it', async () => {
    const created = await api(platform, 'POST', '/v1/apps', { name: 'hello' });
    assert.equal(created.status, 201);
    const dir = join(work, 'hello');
    await cp(join(ROOT, 'examples', 'hello-node'), dir, { recursive: true });
    await commitDir(dir);

    const push = await git(['push', remote('hello'), 'main'], dir);
    assert.equal(push.code, 0, push.output);
    assert.match(push.output, /remote: -----> Node\.js app detected/, 'build output streams back as remote: lines');
    assert.match(push.output, /remote: .*is live at/);

    const host = `hello.${platform.appsDomain}`;
    const answer = await pollUntil('hello through the router', async () => {
      const r = await viaRouter(platform, host);
      return r.status === 200 ? r : undefined;
    }, { timeoutMs: 30_000 });
    assert.match(answer.text, /Hello from hello instance 0/);
    assert.match(answer.text, /uid 2000/, 'the app runs as the non-root vcap user');

    const app = await api(platform, 'GET', '/v1/apps/hello/instances');
    assert.equal(app.status, 200);
    const running = app.json.resources.filter((i: { state: string }) => i.state === 'RUNNING');
    assert.equal(running.length, 1);

    // A broken build is rejected and whatever was running keeps running.
    await writeFile(join(dir, 'package.json'), '{ this is not json');
    await git(['-c', 'user.name=T', '-c', 'user.email=t@example.com', 'commit', '-qam', 'break it'], dir);
    const broken = await git(['push', remote('hello'), 'main'], dir);
    assert.notEqual(broken.code, 0, broken.output);
    assert.match(broken.output, /package\.json is not valid: .*JSON/);
    const still = await viaRouter(platform, host);
    assert.equal(still.status, 200);
    assert.match(still.text, /Hello from hello/);

    // A release whose app dies on start is rejected too; the running release keeps serving.
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'hello', scripts: { start: 'node crash.js' } }));
    await writeFile(join(dir, 'crash.js'), 'console.error("boom: missing DATABASE_URL"); process.exit(1);\n');
    await git(['add', '-A'], dir);
    await git(['-c', 'user.name=T', '-c', 'user.email=t@example.com', 'commit', '-qm', 'crash on start'], dir);
    const crashing = await git(['push', remote('hello'), 'main'], dir);
    assert.notEqual(crashing.code, 0, crashing.output);
    assert.match(crashing.output, /crashed on start: .*boom: missing DATABASE_URL/);
    const survivor = await viaRouter(platform, host);
    assert.equal(survivor.status, 200);
    assert.match(survivor.text, /Hello from hello instance 0/);
    await pollUntil('only the old instance left', async () => {
      const r = await api(platform, 'GET', '/v1/apps/hello/instances');
      return r.json.resources.length === 1 && r.json.resources[0].state === 'RUNNING';
    }, { timeoutMs: 30_000 });

    // Delete: route gone, containers gone.
    const containerIdsBefore = await runcContainers(platform);
    assert.ok(containerIdsBefore.length >= 1, 'the app runs as a runc container');
    const deleted = await api(platform, 'DELETE', '/v1/apps/hello');
    assert.equal(deleted.status, 204);
    const gone = await viaRouter(platform, host);
    assert.equal(gone.status, 404);
    assert.equal(gone.headers.get(ROUTER_ERROR_HEADER), 'unknown-route');
    await pollUntil('containers stopped', async () => (await runcContainers(platform)).length === 0, { timeoutMs: 30_000 });
    assert.equal((await api(platform, 'GET', '/v1/apps/hello')).status, 404);
    assert.deepEqual(await readdir(join(platform.dataDir, 'blobstore', 'droplets')), [], 'its droplets are deleted');
    for (const cell of ['cell-1', 'cell-2']) {
      const unpacked = await readdir(join(platform.dataDir, 'cells', cell, 'droplets')).catch(() => []);
      assert.deepEqual(unpacked, [], `${cell} freed the unpacked droplet`);
    }
    const leftovers = (await hostLeftovers(platform.tag)).filter((l) => l.startsWith('netns') || l.includes('veth'));
    assert.deepEqual(leftovers, [], 'no network namespace of a deleted app remains');
  });

  test('Procfile process types: web is routed, a worker becomes a process with no instance until scaled', async () => {
    assert.equal((await api(platform, 'POST', '/v1/apps', { name: 'procs' })).status, 201);
    const dir = join(work, 'procs');
    await run('mkdir', ['-p', dir]);
    await writeFile(join(dir, 'Procfile'), 'web: node web.js\nworker: node worker.js\n');
    await writeFile(join(dir, 'web.js'), "require('node:http').createServer((q, r) => r.end('web here')).listen(process.env.PORT);\n");
    await writeFile(join(dir, 'worker.js'), "setInterval(() => console.log('working'), 1000);\n");
    await commitDir(dir);
    const push = await git(['push', remote('procs'), 'main'], dir);
    assert.equal(push.code, 0, push.output);
    assert.match(push.output, /Procfile app detected/);
    assert.match(push.output, /worker: node worker\.js/);
    const processes = (await api(platform, 'GET', '/v1/apps/procs/processes')).json.resources as Array<{ type: string; instances: number; health_check: { type: string } }>;
    assert.deepEqual(processes.map((p) => [p.type, p.instances, p.health_check.type]), [['web', 1, 'port'], ['worker', 0, 'process']]);
    assert.equal((await viaRouter(platform, `procs.${platform.appsDomain}`)).text, 'web here');
    assert.equal((await api(platform, 'POST', '/v1/apps/procs/processes/worker/actions/scale', { instances: 1 })).status, 202);
    await pollUntil('the worker running', async () => {
      const list = (await api(platform, 'GET', '/v1/apps/procs/processes/worker/instances')).json.resources as Array<{ state: string }>;
      return list.length === 1 && list[0].state === 'RUNNING';
    }, { timeoutMs: 30_000 });
    assert.equal((await api(platform, 'DELETE', '/v1/apps/procs')).status, 204);
  });

  test('the CLI lists apps as JSON with a token from the environment, and says how to log in without one', async () => {
    await api(platform, 'POST', '/v1/apps', { name: 'cli-listed' });
    const cli = join(ROOT, 'apps', 'cli', 'dist', 'main.js');
    const env = { ...process.env, PAAS_API: platform.apiUrl, PAAS_TOKEN: platform.adminToken, PAAS_CONFIG: join(work, 'cli.json') };
    const listed = await run(process.execPath, [cli, 'apps', '--json'], { env });
    const names = (JSON.parse(listed.stdout) as Array<{ name: string }>).map((a) => a.name);
    assert.ok(names.includes('cli-listed'), names.join(','));
    const anonymous = await run(process.execPath, [cli, 'apps'], { env: { ...process.env, PAAS_CONFIG: join(work, 'none.json') } }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(anonymous.code, 1);
    assert.match(anonymous.stderr, /not logged in: run paas login --api/);
  });

  test('a component that dies is restarted, and a second platform on the same data directory is refused', async () => {
    const router = platform.processes.get('router-1');
    const pid = router?.pid;
    assert.ok(pid, 'the router runs');
    process.kill(pid, 'SIGKILL');
    await pollUntil('the router restarted', async () => router?.pid !== undefined && router.pid !== pid, { timeoutMs: 30_000 });
    await pollUntil('the restarted router serves', async () => (await viaRouter(platform, `nobody.${platform.appsDomain}`)).status === 404, { timeoutMs: 30_000 });
    // `npm start` on the same data directory while this platform runs: refused, nothing disturbed.
    const second = await run(process.execPath, [join(ROOT, 'tools', 'platform', 'dist', 'main.js'), 'start'], {
      env: { ...process.env, PAAS_DATA_DIR: platform.dataDir, PAAS_API_PORT: String(platform.controllerPort + 1) },
      timeout: 60_000,
    }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal(second.code, 3, second.stderr);
    assert.match(second.stderr, /already running/);
    assert.equal((await api(platform, 'GET', '/v1/apps')).status, 200, 'the running platform is untouched');
  });
});

/** Running runc containers of this platform's cells. */
async function runcContainers(platform: TestPlatform): Promise<string[]> {
  const ids: string[] = [];
  for (const cell of ['cell-1', 'cell-2']) {
    const root = join(platform.dataDir, 'cells', cell, 'runc');
    try {
      const { stdout } = await run('runc', ['--root', root, 'list', '--format', 'json']);
      const list = JSON.parse(stdout || '[]') as Array<{ id: string; status: string }> | null;
      for (const c of list ?? []) if (c.status === 'running') ids.push(c.id);
    } catch {
      // no runc root yet: no containers
    }
  }
  return ids;
}
