/**
 * The `paas` CLI as a user runs it: the real binary (apps/cli/dist/main.js) against a whole
 * isolated platform, for every command: its output, its --json output (the API's own JSON), its
 * error messages and its exit codes (0 success, 1 failure, 2 usage). One platform for the file;
 * the tests run in order and build on each other (login first).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { access, constants, cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, commitDir, git, startIsolatedPlatform, stopIsolatedPlatform, type TestPlatform } from '@paas/test-platform';
import { api, viaRouter } from './test-platform';
import { pollUntil } from '@paas/local-services';

const run = promisify(execFile);
const CLI = join(ROOT, 'apps', 'cli', 'dist', 'main.js');

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

describe('the paas CLI', () => {
  let platform: TestPlatform;
  let work: string;
  let configFile: string;

  /** The CLI's environment: its own config file, no colours, no login inherited from the test's environment. */
  const cliEnv = (extra: Record<string, string> = {}) => {
    const env: Record<string, string | undefined> = { ...process.env, PAAS_CONFIG: configFile, NO_COLOR: '1', HOME: work, ...extra };
    for (const key of ['PAAS_API', 'PAAS_TOKEN', 'FORCE_COLOR', 'COLUMNS']) if (!(key in extra)) delete env[key];
    return env as NodeJS.ProcessEnv;
  };

  /** Runs the binary; never throws: the exit code is part of what is checked. */
  const paas = (args: string[], options: { cwd?: string; env?: Record<string, string>; input?: string } = {}) =>
    new Promise<CliResult>((resolve) => {
      const child = execFile(process.execPath, [CLI, ...args], { cwd: options.cwd ?? work, env: cliEnv(options.env), timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : 1) : 0;
        resolve({ code, stdout, stderr });
      });
      child.stdin?.end(options.input ?? '');
    });

  /** Runs the binary and expects exit code 0. */
  const ok = async (args: string[], options: Parameters<typeof paas>[1] = {}) => {
    const r = await paas(args, options);
    assert.equal(r.code, 0, `paas ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r;
  };
  const json = async <T = unknown>(args: string[], options: Parameters<typeof paas>[1] = {}) => JSON.parse((await ok([...args, '--json'], options)).stdout) as T;
  const fails = async (args: string[], code: number, stderr: RegExp, options: Parameters<typeof paas>[1] = {}) => {
    const r = await paas(args, options);
    assert.equal(r.code, code, `paas ${args.join(' ')} exits ${code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.match(r.stderr, stderr);
    return r;
  };
  const answers = async (host: string, path = '/') => (await viaRouter(platform, host, path)).status;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'paas-e2e-cli-'));
    configFile = join(work, 'config', 'paas.json');
    platform = await startIsolatedPlatform(1);
  });

  after(async () => {
    const leftovers = await stopIsolatedPlatform(platform);
    await rm(work, { recursive: true, force: true });
    assert.deepEqual(leftovers, [], 'stopping the platform leaves nothing behind');
  });

  test('login, whoami, target, orgs and spaces; errors say what to do next', async () => {
    await fails(['apps'], 1, /^error: not logged in: run paas login --api http:\/\/.* --token TOKEN \(or set PAAS_API and PAAS_TOKEN\)/);
    await fails(['login', '--api', platform.apiUrl, '--token', 'wrong'], 1, /refused the token/);
    await fails(['login', '--api', 'http://127.0.0.1:1', '--token', 'x'], 1, /cannot reach the API at http:\/\/127\.0\.0\.1:1 .*is the platform running/);
    await fails(['login', '--api', 'ftp://example', '--token', 'x'], 2, /--api must be an http:\/\/ or https:\/\/ URL/);
    await assert.rejects(access(configFile), 'failed logins save nothing');

    // The token from stdin (as a script pipes it), then from the flag.
    const login = await ok(['login', '--api', `${platform.apiUrl}/`], { input: `${platform.adminToken}\n` });
    assert.equal(login.stdout, `logged in to ${platform.apiUrl} as admin (platform admin)\n`);
    await ok(['login', '--api', platform.apiUrl, '--token', platform.adminToken]);
    assert.equal((await stat(configFile)).mode & 0o777, 0o600, 'the config file is readable by its owner only');
    assert.deepEqual(JSON.parse(await readFile(configFile, 'utf8')), { api: platform.apiUrl, token: platform.adminToken });

    const whoami = await ok(['whoami']);
    assert.match(whoami.stdout, /^user: +admin \(platform admin\)$/m);
    assert.match(whoami.stdout, new RegExp(`^api: +${platform.apiUrl}$`, 'm'));
    const me = await json<{ name: string; is_admin: boolean; roles: unknown[] }>(['whoami']);
    assert.deepEqual([me.name, me.is_admin], ['admin', true]);
    assert.deepEqual(me, (await api(platform, 'GET', '/v1/users/me')).json, '--json prints the API answer as it is');

    // PAAS_API / PAAS_TOKEN override the saved login.
    await fails(['apps'], 1, /the token was refused: log in again with paas login/, { env: { PAAS_API: platform.apiUrl, PAAS_TOKEN: 'not-a-token' } });
    assert.equal((await paas(['apps', '--json'], { env: { PAAS_API: platform.apiUrl, PAAS_TOKEN: platform.adminToken, PAAS_CONFIG: join(work, 'none.json') } })).code, 0);

    // Orgs and spaces, then a target: create puts apps there, apps lists them only.
    assert.match((await ok(['create-org', 'acme'])).stdout, /created org acme/);
    assert.match((await ok(['create-space', 'dev', '-o', 'acme'])).stdout, /created space dev in acme/);
    await fails(['create-space', 'dev', '-o', 'acme'], 1, /already|taken/i);
    await fails(['create-space', 'x', '-o', 'nosuchorg'], 1, /no org nosuchorg: paas orgs lists them/);
    assert.deepEqual((await json<Array<{ name: string }>>(['orgs'])).map((o) => o.name), ['acme', 'default']);
    assert.deepEqual((await json<Array<{ name: string; org_name: string }>>(['spaces', '-o', 'acme'])).map((s) => `${s.org_name}/${s.name}`), ['acme/dev']);
    assert.match((await ok(['spaces'])).stdout, /^org +space +created\n/);
    await fails(['target', '-o', 'nosuchorg'], 1, /no org nosuchorg/);
    assert.match((await ok(['target', '-o', 'acme', '-s', 'dev'])).stdout, /^target: acme \/ dev$/m);
    const target = await json<{ org: { name: string }; space: { name: string; id: string } }>(['target']);
    assert.deepEqual([target.org.name, target.space.name], ['acme', 'dev']);
    const created = await json<{ name: string; space_id: string; org_name: string; space_name: string }>(['create', 'in-dev']);
    assert.deepEqual([created.org_name, created.space_name, created.space_id], ['acme', 'dev', target.space.id]);
    assert.deepEqual((await json<Array<{ name: string }>>(['apps'])).map((a) => a.name), ['in-dev'], 'apps lists the targeted space');
    assert.match((await ok(['whoami'])).stdout, /^target: +acme \/ dev$/m);
    await ok(['delete', 'in-dev', '-f']);
    assert.match((await ok(['apps'])).stdout, /no apps in acme\/dev yet: paas create NAME/);
    await ok(['target', '--clear']);
    assert.deepEqual(await json(['target']), { api: platform.apiUrl, org: null, space: null });
  });

  test('apps, app, create, rename, delete: tables, --json, confirmation and exit codes', async () => {
    assert.equal((await ok(['create', 'cli-a'])).stdout, 'created cli-a in default/default: push it with paas push cli-a\n');
    await fails(['create', 'cli-a'], 1, /^error: an app named cli-a already exists/);
    await fails(['create', 'Bad_Name'], 1, /lowercase DNS label/);

    const listed = await ok(['apps']);
    assert.match(listed.stdout, /^name +state +space +url\ncli-a +STARTED +default\/default +http:\/\/cli-a\.apps\.localhost:\d+\/\n$/);
    const apps = await json<Array<{ name: string }>>(['apps']);
    assert.deepEqual(apps, (await api(platform, 'GET', '/v1/apps')).json.resources, 'apps --json is the API resources, exactly');
    // Narrow terminal: the table fits, the URL is cut.
    const narrow = await ok(['apps'], { env: { COLUMNS: '40' } });
    for (const line of narrow.stdout.trimEnd().split('\n')) assert.ok(line.length <= 40, `"${line}" fits 40 columns`);
    assert.match(narrow.stdout, /…/);

    const shown = await ok(['app', 'cli-a']);
    assert.match(shown.stdout, /^state: +STARTED$/m);
    assert.match(shown.stdout, /^release: +none yet: paas push cli-a$/m);
    assert.match(shown.stdout, /^routes: +http:\/\/cli-a\.apps\.localhost:\d+$/m);
    const detail = await json<{ name: string; processes: Array<{ type: string }>; instances: unknown[]; routes: Array<{ url: string }>; release: unknown }>(['app', 'cli-a']);
    assert.deepEqual([detail.name, detail.processes.map((p) => p.type), detail.instances, detail.routes.map((r) => r.url), detail.release], ['cli-a', ['web'], [], ['cli-a.apps.localhost'], null]);
    await fails(['app', 'nosuch'], 1, /^error: no app nosuch: paas apps lists your apps/);
    await fails(['app', 'nosuch', '--json'], 1, /no app nosuch/);

    assert.match((await ok(['rename', 'cli-a', 'cli-b'])).stdout, /^renamed cli-a to cli-b$/m);
    await fails(['app', 'cli-a'], 1, /no app cli-a/);
    assert.equal((await json<{ name: string }>(['app', 'cli-b'])).name, 'cli-b');

    // delete asks; without a terminal it refuses unless -f.
    await fails(['delete', 'cli-b'], 1, /not deleting cli-b: there is no terminal to ask for confirmation; repeat with -f/);
    assert.equal((await api(platform, 'GET', '/v1/apps/cli-b')).status, 200, 'still there');
    assert.equal((await ok(['delete', 'cli-b', '-f'])).stdout, 'deleted cli-b\n');
    assert.equal((await api(platform, 'GET', '/v1/apps/cli-b')).status, 404);
    await fails(['delete', 'cli-b', '-f'], 1, /no app cli-b/);

    // Usage errors: exit code 2.
    await fails(['frobnicate'], 2, /unknown command 'frobnicate'/);
    await fails(['app'], 2, /missing required argument 'name'/);
    assert.match((await ok(['--help'])).stdout, /Usage: paas/);
  });

  test('push from a git repository streams the build; scale, env, releases, rollback, restart, stop, start, deployments, events', async () => {
    const dir = join(work, 'web1');
    await cp(join(ROOT, 'examples', 'hello-node'), dir, { recursive: true });
    await commitDir(dir);
    const pushed = await ok(['push', 'web1'], { cwd: dir });
    assert.match(pushed.stderr, /created app web1 in default\/default/, 'push creates a missing app');
    assert.match(pushed.stderr, /remote: -----> Node\.js app detected/, 'git prints the build output live');
    assert.match(pushed.stderr, /remote: -----> web1 v1 is live at/);
    assert.match((await git(['remote', 'get-url', 'paas'], dir)).output, /^http:\/\/paas:.*@127\.0\.0\.1:\d+\/git\/web1\.git/);
    const host = `web1.${platform.appsDomain}`;
    await pollUntil('web1 answers', async () => (await answers(host)) === 200, { timeoutMs: 30_000 });
    assert.match((await ok(['push', 'web1'], { cwd: dir })).stdout, /already runs [0-9a-f]{7} \(HEAD\): nothing to push/);

    const shown = await ok(['app', 'web1']);
    assert.match(shown.stdout, /^release: +v1 \(deploy [0-9a-f]{7}, nodejs, /m);
    assert.match(shown.stdout, /^web: 1\/1 running, 256M memory, 1G disk, unlimited cpu each$/m);
    assert.match(shown.stdout, /^# +state +release +cell +uptime +cpu +memory +disk$/m);
    assert.match(shown.stdout, /^0 +RUNNING +v1 +cell-1 +\d+[smh][^ ]* +\S+ +\S+ \/ 256M +\S+ \/ 1G$/m);

    // Scale: instances (waits until they run), bad sizes, memory (a release and its deployment).
    assert.equal((await ok(['scale', 'web1', '-i', '2'])).stdout, 'scaled web1 web to 2 instance(s)\n');
    const running = (await json<{ instances: Array<{ state: string }> }>(['app', 'web1'])).instances.filter((i) => i.state === 'RUNNING');
    assert.equal(running.length, 2, 'scale waited for both instances');
    await fails(['scale', 'web1', '-m', 'lots'], 2, /-m must be a size with a unit, like 512M or 1G \(got "lots"\)/);
    await fails(['scale', 'web1', '-m', '512'], 2, /a bare number has no unit; write 512M/);
    await fails(['scale', 'web1', '-i', 'two'], 2, /-i must be a whole number/);
    await fails(['scale', 'web1', '-m', '1M'], 1, /memory_mb must be at least/);
    assert.match((await ok(['scale', 'web1', '-m', '300M'])).stdout, /^scaling web1 web to 300M memory: v2 is deployed$/m);
    assert.equal((await json<Array<{ memory_mb: number; instances: number }>>(['scale', 'web1']))[0].memory_mb, 300);
    assert.match((await ok(['scale', 'web1'])).stdout, /^web +2 +300M +1G/m);

    // Env: K V and K=V forms, unset, reserved names refused by the API.
    assert.match((await ok(['set-env', 'web1', 'GREETING', 'hello there'])).stdout, /^set GREETING on web1: v3 is deployed$/m);
    await ok(['set-env', 'web1', 'A=1', 'B=x=y']);
    assert.deepEqual(await json(['env', 'web1']), { var: { GREETING: 'hello there', A: '1', B: 'x=y' } });
    await ok(['unset-env', 'web1', 'A', 'B']);
    assert.match((await ok(['env', 'web1'])).stdout, /^name +value\nGREETING +hello there\n$/);
    await fails(['set-env', 'web1', 'PORT=1'], 1, /PORT/);
    await fails(['set-env', 'web1', 'A=1', 'B'], 2, /"B" is not NAME=VALUE/);

    // Releases and rollback.
    const releases = await json<Array<{ version: number; current: boolean }>>(['releases', 'web1']);
    assert.deepEqual(releases.map((r) => r.version), [5, 4, 3, 2, 1]);
    assert.deepEqual(releases, (await api(platform, 'GET', '/v1/apps/web1/releases')).json.resources);
    assert.match((await ok(['releases', 'web1'])).stdout, /^version +description +buildpack +created +note\n\* v5 /);
    assert.match((await ok(['rollback', 'web1', 'v1'])).stdout, /^rolling web1 back to v1: v6 is deployed$/m);
    await fails(['rollback', 'web1', 'v99'], 1, /no release|v99|99/);
    await fails(['rollback', 'web1', 'latest'], 2, /a release version is like v3 or 3/);
    assert.match((await ok(['restart', 'web1'])).stdout, /^restarting web1: v6 is deployed$/m);

    const deployments = await json<Array<{ state: string }>>(['deployments', 'web1']);
    assert.ok(deployments.length >= 5 && deployments.every((d) => d.state === 'DEPLOYED'), JSON.stringify(deployments));
    assert.match((await ok(['deployments', 'web1'])).stdout, /^id +state +release +created +reason\n[0-9a-f-]{36} +DEPLOYED +v6 /);
    await fails(['cancel-deploy', 'web1'], 1, /no deployment of web1 is running: paas deployments web1 lists them/);

    // Stop and start wait for the instances.
    assert.equal((await ok(['stop', 'web1'])).stdout, 'stopped web1\n');
    await pollUntil('the stopped app stops answering', async () => (await answers(host)) !== 200, { timeoutMs: 10_000 });
    assert.equal((await ok(['start', 'web1'])).stdout, 'started web1 (v6)\n');
    await pollUntil('web1 answers again', async () => (await answers(host)) === 200, { timeoutMs: 30_000 });

    const events = await json<Array<{ type: string; target: { name: string } }>>(['events', 'web1']);
    const types = events.map((e) => e.type);
    for (const type of ['app-created', 'app-pushed']) assert.ok(types.includes(type), `${type} in ${types.join(',')}`);
    assert.ok(events.every((e) => e.target.name === 'web1'));
    const pushes = await json<Array<{ type: string }>>(['events', 'web1', '--type', 'app-pushed']);
    assert.deepEqual(pushes.map((e) => e.type), ['app-pushed']);
    assert.match((await ok(['events', 'web1', '-n', '3'])).stdout, /^time +type +actor +target +details\n(.*\n){3}$/);
    await fails(['events', '-n', '0'], 2, /-n must be a number from 1 to 200/);
  });

  test('push from a directory that is not a git repository uploads it without what .gitignore and .cfignore exclude; a failing push exits 1', async () => {
    const dir = join(work, 'up1');
    await mkdir(join(dir, 'logs'), { recursive: true });
    const server = `
const fs = require('node:fs');
const http = require('node:http');
http.createServer((req, res) => res.end(JSON.stringify(fs.readdirSync('.').sort()))).listen(process.env.PORT);
`;
    const files: Record<string, string> = {
      'package.json': JSON.stringify({ name: 'up1', scripts: { start: 'node server.js' } }),
      'server.js': server,
      'kept.txt': 'kept',
      '.gitignore': 'ignored-by-git.txt\nlogs/\n',
      '.cfignore': 'secret.env\n',
      'ignored-by-git.txt': 'no',
      'secret.env': 'TOKEN=no',
      'logs/a.log': 'no',
    };
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    const pushed = await ok(['push', 'up1', '-p', dir]);
    assert.match(pushed.stderr, /packed 5 files of .*up1 \(.*compressed; \.gitignore and \.cfignore respected\)/);
    assert.match(pushed.stderr, /uploading to up1: \d/);
    assert.match(pushed.stdout, /^-----> Received 5 files/m);
    assert.match(pushed.stdout, /^-----> up1 v1 is live at /m);
    const host = `up1.${platform.appsDomain}`;
    const listing = await pollUntil('up1 answers', async () => {
      const r = await viaRouter(platform, host);
      return r.status === 200 ? r.text : undefined;
    }, { timeoutMs: 30_000 });
    const present = JSON.parse(listing) as string[];
    for (const name of ['kept.txt', 'server.js', 'package.json']) assert.ok(present.includes(name), `${name} uploaded: ${listing}`);
    for (const name of ['secret.env', 'ignored-by-git.txt', 'logs']) assert.ok(!present.includes(name), `${name} not uploaded: ${listing}`);

    // A broken package.json: the build fails, the CLI says so and exits 1, v1 keeps serving.
    await writeFile(join(dir, 'package.json'), '{ not json');
    const failed = await fails(['push', 'up1', '-p', dir], 1, /^error: push to up1 failed: see the output above$/m);
    assert.match(failed.stdout, /package\.json is not valid/);
    assert.match(failed.stdout, /push rejected: the running release of up1 was left as it was/);
    assert.equal(await answers(host), 200);
    await fails(['push', '-p', join(work, 'does-not-exist')], 2, /no directory/);
    await fails(['push', '-p', dir], 2, /give the app's name: paas push NAME/);
  });

  test('routes, map-route, unmap-route, domains, create-domain', async () => {
    assert.match((await ok(['create-domain', 'shop.example.test'])).stdout, /^created shared domain shop\.example\.test/);
    const domains = await json<Array<{ name: string; shared: boolean; default: boolean }>>(['domains']);
    assert.deepEqual(domains.map((d) => [d.name, d.shared, d.default]), [['apps.localhost', true, true], ['shop.example.test', true, false]]);
    assert.match((await ok(['domains'])).stdout, /^apps\.localhost +shared \(default\) +- +verified$/m);

    assert.equal((await ok(['map-route', 'web1', 'shop.example.test', '--hostname', 'www', '--path', 'api', '-w', '30'])).stdout, 'mapped www.shop.example.test/api to web1 (weight 30)\n');
    await ok(['map-route', 'up1', 'shop.example.test', '--hostname', 'www', '--path', '/api', '--weight', '70']);
    const route = (await json<Array<{ url: string; destinations: Array<{ app: { name: string }; weight: number }> }>>(['routes'])).find((r) => r.url === 'www.shop.example.test/api');
    assert.deepEqual(route?.destinations.map((d) => [d.app.name, d.weight]), [['web1', 30], ['up1', 70]]);
    assert.match((await ok(['routes'])).stdout, /^www\.shop\.example\.test\/api +web1 \(weight 30\), up1 \(weight 70\)$/m);
    await pollUntil('the new route answers', async () => (await answers('www.shop.example.test', '/api')) === 200, { timeoutMs: 15_000 });
    assert.deepEqual((await json<Array<{ url: string }>>(['routes', 'web1'])).map((r) => r.url).sort(), ['web1.apps.localhost', 'www.shop.example.test/api']);

    assert.equal((await ok(['unmap-route', 'web1', 'shop.example.test', '--hostname', 'www', '--path', '/api'])).stdout, 'unmapped www.shop.example.test/api from web1\n');
    assert.deepEqual((await json<Array<{ url: string }>>(['routes', 'web1'])).map((r) => r.url), ['web1.apps.localhost']);
    await fails(['unmap-route', 'web1', 'shop.example.test', '--hostname', 'www', '--path', '/api'], 1, /does not route to web1/);
    await fails(['map-route', 'web1', 'nowhere.test', '--hostname', 'x'], 1, /no domain nowhere\.test: paas domains lists them/);
    await fails(['map-route', 'web1', 'shop.example.test', '--hostname', 'x', '-w', '500'], 2, /--weight must be a whole number from 1 to 100/);
    await fails(['map-route', 'web1', 'shop.example.test'], 2, /required option '-n, --hostname <host>' not specified/);
  });

  test('cells', async () => {
    const cells = await json<Array<{ id: string; state: string }>>(['cells']);
    assert.deepEqual(cells.map((c) => [c.id, c.state]), [['cell-1', 'live']]);
    assert.match((await ok(['cells'])).stdout, /^cell +zone +state +address +instances +memory +apps +up\ncell-1 +\S+ +live +\S+ +\d+\/\d+ +\S+ \/ \S+ +.*(web1|up1)/);
  });

  test('logs --recent prints tagged lines (and JSON); logs follows new lines until Ctrl-C', async () => {
    type Entry = { id: string; source: string; stream: string; text: string };
    const recent = await json<Entry[]>(['logs', 'web1', '--recent', '-n', '1000']);
    assert.ok(recent.some((e) => /^APP\/PROC\/WEB\/\d+$/.test(e.source) && /hello-node listening/.test(e.text)), JSON.stringify(recent.slice(-5)));
    assert.deepEqual(recent.map((e) => e.id), [...recent.map((e) => e.id)].sort((a, b) => (BigInt(a.split('-')[0]) === BigInt(b.split('-')[0]) ? Number(a.split('-')[1]) - Number(b.split('-')[1]) : Number(BigInt(a.split('-')[0]) - BigInt(b.split('-')[0])))), 'oldest first');
    const sources = new Set(recent.map((e) => e.source.split('/')[0]));
    assert.ok(sources.has('STG'), `staging lines are in the log (sources: ${[...sources].join(', ')})`);
    assert.deepEqual(await json<Entry[]>(['logs', 'web1', '--recent', '-n', '3']), recent.slice(-3), '-n limits to the newest lines');
    assert.match((await ok(['logs', 'web1', '--recent'])).stdout, /^\S+Z \[APP\/PROC\/WEB\/\d+\] OUT hello-node listening on \d+$/m);
    await fails(['logs', 'nosuch', '--recent'], 1, /no app nosuch/);

    // Follow from now on (-n 0): requests through the router make new (RTR) lines; poll until one shows up.
    const child = spawn(process.execPath, [CLI, 'logs', 'web1', '-n', '0'], { env: cliEnv(), cwd: work });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await pollUntil('a new line arrives on the followed log', async () => {
        assert.equal(child.exitCode, null, `logs exited early: ${out}`);
        await viaRouter(platform, `web1.${platform.appsDomain}`, '/followed');
        return /^\S+Z \[RTR\/\d+\] OUT .*\/followed/m.test(out);
      }, { timeoutMs: 30_000 });
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 0, `Ctrl-C ends logs with code 0: ${out}`);
  });

  test('installable: npm i -g ./apps/cli gives a working paas, and npx paas runs inside the repo', async () => {
    const prefix = join(work, 'global');
    await run('npm', ['install', '--global', '--offline', '--no-audit', '--no-fund', '--prefix', prefix, join(ROOT, 'apps', 'cli')], { cwd: ROOT, timeout: 120_000 });
    const global = await run(join(prefix, 'bin', 'paas'), ['apps', '--json'], { env: cliEnv() });
    assert.ok((JSON.parse(global.stdout) as Array<{ name: string }>).some((a) => a.name === 'web1'), 'the globally installed paas talks to the API');
    await access(join(ROOT, 'node_modules', '.bin', 'paas'), constants.X_OK);
    const version = JSON.parse(await readFile(join(ROOT, 'apps', 'cli', 'package.json'), 'utf8')).version as string;
    assert.equal((await run(join(ROOT, 'node_modules', '.bin', 'paas'), ['--version'], { env: cliEnv() })).stdout.trim(), version);
  });
});
