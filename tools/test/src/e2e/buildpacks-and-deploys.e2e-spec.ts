/**
 * Issue 6 as a user meets it: ordinary apps pushed with the real git client (Express with and
 * without a lockfile, a static site, a python3 Procfile app, a CF manifest), deploys that never
 * drop a request, failures that leave the running release alone, env changes and rollbacks.
 * The staging containers install packages from a fixture npm registry that listens on each
 * cell's own bridge gateway (an address this test's platform created), never the internet.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NpmRegistryFixture } from '@paas/testing';
import { EXPRESS_SERVER, commitDir, git, startIsolatedPlatformWithRegistry, stopIsolatedPlatformWithRegistry, writeExpressApp, writeFiles, type TestPlatform } from '@paas/test-platform';
import { api, trafficLoop, viaRouter } from './test-platform';
import { pollUntil } from '@paas/local-services';

describe('buildpacks, manifests, releases and deploys', () => {
  let platform: TestPlatform;
  let work: string;
  let registries: NpmRegistryFixture[] = [];
  const remote = (name: string) => `http://paas:${platform.adminToken}@127.0.0.1:${platform.controllerPort}/git/${name}.git`;
  const host = (name: string) => `${name}.${platform.appsDomain}`;

  async function createApp(name: string): Promise<void> {
    const r = await api(platform, 'POST', '/v1/apps', { name });
    assert.equal(r.status, 201, JSON.stringify(r.json));
  }

  /** Writes the files into a fresh directory of the work dir and commits them. */
  async function appDir(name: string, files: Record<string, string>): Promise<string> {
    const dir = join(work, name);
    await rm(dir, { recursive: true, force: true });
    await writeFiles(dir, files);
    await commitDir(dir);
    return dir;
  }

  /** Waits until a deployment ends and asserts it succeeded (its reason shown when it did not). */
  async function deployed(name: string, id: string): Promise<void> {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the deployment view, checked field by field
    const end = await pollUntil<any>(`deployment ${id} of ${name} to end`, async () => {
      const d = (await api(platform, 'GET', `/v1/apps/${name}/deployments/${id}`)).json;
      return d && d.state !== 'DEPLOYING' ? d : undefined;
    }, { timeoutMs: 90_000 });
    assert.equal(end.state, 'DEPLOYED', JSON.stringify(end));
  }

  async function push(name: string, dir: string): Promise<{ code: number; output: string }> {
    return git(['push', remote(name), 'main'], dir);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the app's JSON answer, checked field by field
  async function answer(name: string, path = '/'): Promise<any> {
    const r = await viaRouter(platform, host(name), path);
    assert.equal(r.status, 200, `${name}${path} answers 200: ${r.status} ${r.text.slice(0, 200)}`);
    return JSON.parse(r.text);
  }

  /** Tarball requests the registries saw (package documents are not counted). */
  const tarballRequests = () => registries.flatMap((r) => r.requests).filter((p) => p.endsWith('.tgz'));

  /** package.json, server.js and (with `lockfile`) a lockfile made against the fixture registry, committed. */
  async function expressPackage(dir: string, pkg: Record<string, unknown>, lockfile: boolean): Promise<void> {
    await writeExpressApp(dir, pkg, { ...(lockfile ? { registry: registries[0].url } : {}), npmCache: join(work, 'host-npm-cache') });
    await commitDir(dir);
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'paas-e2e-bp-'));
    ({ platform, registries } = await startIsolatedPlatformWithRegistry(2, ['express', 'picocolors']));
  });

  after(async () => {
    const leftovers = await stopIsolatedPlatformWithRegistry(platform, registries);
    await rm(work, { recursive: true, force: true });
    assert.deepEqual(leftovers, [], 'stopping the platform leaves no bridge, veth, netns or iptables rule behind');
  });

  test('an Express app with a lockfile: engines.node, npm ci, the build script, devDependencies pruned, the CF environment', async () => {
    await createApp('shop');
    const dir = join(work, 'shop');
    await expressPackage(
      dir,
      {
        name: 'shop',
        version: '1.0.0',
        engines: { node: '24.x' },
        scripts: {
          build: `node -e "require('fs').mkdirSync('dist',{recursive:true});require('fs').writeFileSync('dist/built.txt','built during staging')"`,
          start: 'node server.js',
        },
        dependencies: { express: '^5.0.0' },
        devDependencies: { picocolors: '^1.0.0' },
      },
      true,
    );
    const pushed = await push('shop', dir);
    assert.equal(pushed.code, 0, pushed.output);
    assert.match(pushed.output, /remote: -----> Node\.js app detected/);
    assert.match(pushed.output, /npm ci/);
    assert.match(pushed.output, /24\.\d+\.\d+/, 'the build names the Node version it chose');
    const body = await answer('shop');
    assert.match(body.node, /^v24\./, 'engines.node 24.x runs Node 24, not the stack Node 20');
    assert.equal(body.built, 'built during staging', 'the build script ran during staging');
    assert.equal(body.devDependency, false, 'devDependencies are pruned from the droplet');
    // The Cloud Foundry / Heroku environment contract.
    assert.equal(body.instanceIndex, '0');
    assert.equal(body.cfInstanceIndex, '0');
    assert.match(body.cfInstanceGuid, /^[0-9a-f]+$/);
    assert.equal(body.cfInstancePort, '8080');
    assert.equal(body.memoryLimit, '256m');
    assert.equal(body.vcapServices, '{}');
    const vcap = body.vcapApplication;
    assert.equal(vcap.application_name, 'shop');
    assert.equal(vcap.name, 'shop');
    assert.match(vcap.application_id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(vcap.uris, [host('shop')]);
    assert.deepEqual(vcap.application_uris, [host('shop')]);
    assert.equal(vcap.instance_index, 0);
    assert.equal(vcap.process_type, 'web');
    assert.deepEqual(vcap.limits, { mem: 256, disk: 1024, fds: 16384 });
    assert.ok(vcap.space_name && vcap.space_id && vcap.organization_name, JSON.stringify(vcap));
  });

  test('a second push with the same lockfile reuses node_modules, and its rolling deploy drops no request', async () => {
    const dir = join(work, 'shop');
    await writeFile(join(dir, 'server.js'), EXPRESS_SERVER.replace("process.env.APP_VERSION || 'v1'", "'v2'"));
    await commitDir(dir, 'v2');
    const tarballsBefore = tarballRequests().length;
    const traffic = trafficLoop(platform, host('shop'), { maxRequests: 20_000, maxMs: 120_000 });
    const pushed = await push('shop', dir);
    const seen = (version: string) => [...traffic.bodies.keys()].some((b) => (JSON.parse(b) as { version: string }).version === version);
    await pollUntil('v2 answering the request loop', async () => seen('v2'), { timeoutMs: 60_000 });
    const result = await traffic.end();
    assert.equal(pushed.code, 0, pushed.output);
    assert.match(pushed.output, /Reusing node_modules/i, 'an unchanged lockfile reuses the cached node_modules');
    assert.equal(tarballRequests().length, tarballsBefore, 'no package tarball was downloaded again');
    assert.deepEqual(result.failures, [], 'no request failed during the rolling deploy');
    assert.ok(result.ok > 5, `requests were served during the deploy (${result.ok})`);
    const versions = [...result.bodies.keys()].map((b) => (JSON.parse(b) as { version: string }).version);
    assert.ok(versions.includes('v1') && versions.includes('v2'), `both releases answered during the deploy: ${versions.join(',')}`);
  });

  test('an Express app without a lockfile is installed with npm install on the stack Node', async () => {
    await createApp('nolock');
    const dir = join(work, 'nolock');
    await expressPackage(dir, { name: 'nolock', version: '1.0.0', dependencies: { express: '^5.0.0' } }, false);
    const pushed = await push('nolock', dir);
    assert.equal(pushed.code, 0, pushed.output);
    assert.match(pushed.output, /npm install/);
    const body = await answer('nolock');
    assert.match(body.node, /^v20\./, 'no engines.node: the stack Node');
  });

  test('a static site is served with content types, caching headers and its 404 page', async () => {
    await createApp('site');
    const dir = await appDir('site', {
      'index.html': '<!doctype html><title>Home</title><h1>Welcome home</h1>',
      'css/site.css': 'h1 { color: teal; }',
      'app.js': 'console.log("hi");',
      '404.html': '<!doctype html><h1>Nothing here, sorry</h1>',
    });
    const pushed = await push('site', dir);
    assert.equal(pushed.code, 0, pushed.output);
    assert.match(pushed.output, /-----> Static/i);
    const home = await viaRouter(platform, host('site'));
    assert.equal(home.status, 200);
    assert.match(home.text, /Welcome home/);
    assert.match(home.headers.get('content-type') ?? '', /^text\/html/);
    assert.ok(home.headers.get('etag') || home.headers.get('last-modified'), 'a validator for caches');
    assert.ok(home.headers.get('cache-control'), 'a Cache-Control header');
    const css = await viaRouter(platform, host('site'), '/css/site.css');
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
    const js = await viaRouter(platform, host('site'), '/app.js');
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    const missing = await viaRouter(platform, host('site'), '/no/such/page');
    assert.equal(missing.status, 404);
    assert.match(missing.text, /Nothing here, sorry/);
  });

  test('a Procfile app runs on the stack tools: python3 http.server', async () => {
    await createApp('py');
    const dir = await appDir('py', { Procfile: 'web: python3 -m http.server $PORT\n', 'hello.txt': 'hello from python\n' });
    const pushed = await push('py', dir);
    assert.equal(pushed.code, 0, pushed.output);
    assert.match(pushed.output, /Procfile app detected/);
    const r = await viaRouter(platform, host('py'), '/hello.txt');
    assert.equal(r.status, 200);
    assert.equal(r.text, 'hello from python\n');
  });

  test('manifest.yml: 3 instances and two routes; an invalid value rejects the push naming the key and changes nothing', async () => {
    await createApp('fleet');
    const files = {
      Procfile: 'web: node server.js\n',
      'server.js': "require('node:http').createServer((q, r) => r.end(`fleet ${process.env.INSTANCE_INDEX} ${process.env.COLOUR}`)).listen(process.env.PORT);\n",
      'manifest.yml': [
        'applications:',
        '- name: fleet',
        '  instances: 3',
        '  memory: 128M',
        '  routes:',
        `  - route: fleet-a.${platform.appsDomain}`,
        `  - route: fleet-b.${platform.appsDomain}`,
        '  env:',
        '    COLOUR: teal',
        '',
      ].join('\n'),
    };
    const dir = await appDir('fleet', files);
    const pushed = await push('fleet', dir);
    assert.equal(pushed.code, 0, pushed.output);
    const web = (await api(platform, 'GET', '/v1/apps/fleet/processes/web')).json;
    assert.equal(web.instances, 3);
    assert.equal(web.memory_mb, 128);
    const indexes = new Set<string>();
    for (const name of ['fleet-a', 'fleet-b']) {
      await pollUntil(`${name} answering`, async () => (await viaRouter(platform, host(name))).status === 200, { timeoutMs: 30_000 });
    }
    await pollUntil('all three instances answering', async () => {
      const r = await viaRouter(platform, host('fleet-a'));
      if (r.status === 200) indexes.add(r.text);
      return indexes.size === 3;
    }, { timeoutMs: 30_000 });
    assert.deepEqual([...indexes].sort(), ['fleet 0 teal', 'fleet 1 teal', 'fleet 2 teal']);
    assert.equal((await viaRouter(platform, host('fleet-b'))).text.startsWith('fleet '), true);

    // A bad value: the push is refused before staging, naming the key and the rule; nothing changes.
    const releasesBefore = (await api(platform, 'GET', '/v1/apps/fleet/releases')).json.resources.length;
    await writeFile(join(dir, 'manifest.yml'), files['manifest.yml'].replace('memory: 128M', 'memory: lots').replace('instances: 3', 'instances: 1'));
    await commitDir(dir, 'bad manifest');
    const refused = await push('fleet', dir);
    assert.notEqual(refused.code, 0);
    assert.match(refused.output, /memory/);
    assert.match(refused.output, /512M|1G/, 'the message shows a valid size');
    assert.equal((await api(platform, 'GET', '/v1/apps/fleet/processes/web')).json.instances, 3, 'the refused manifest changed nothing');
    assert.equal((await api(platform, 'GET', '/v1/apps/fleet/releases')).json.resources.length, releasesBefore, 'no release was made');
    assert.match((await viaRouter(platform, host('fleet-a'))).text, /^fleet \d teal$/);
  });

  test('an app that crashes at boot and one that never binds $PORT are refused with their last log lines; the running release keeps answering', async () => {
    await createApp('steady');
    const good = "require('node:http').createServer((q, r) => r.end('steady v1')).listen(process.env.PORT);\n";
    const dir = await appDir('steady', { Procfile: 'web: node server.js\n', 'server.js': good });
    assert.equal((await push('steady', dir)).code, 0);
    assert.equal((await viaRouter(platform, host('steady'))).text, 'steady v1');

    await writeFile(join(dir, 'server.js'), "console.log('loading the settings');\nthrow new Error('settings file is missing');\n");
    await commitDir(dir, 'crash at boot');
    const crashed = await push('steady', dir);
    assert.notEqual(crashed.code, 0);
    assert.match(crashed.output, /settings file is missing/, 'the push shows the instance last log lines');
    assert.equal((await viaRouter(platform, host('steady'))).text, 'steady v1');

    await writeFile(join(dir, 'server.js'), "console.log('listening on port 9999 instead');\nrequire('node:http').createServer((q, r) => r.end('wrong port')).listen(9999);\n");
    await writeFile(join(dir, 'manifest.yml'), 'applications:\n- name: steady\n  timeout: 3\n');
    await commitDir(dir, 'never binds');
    const deaf = await push('steady', dir);
    assert.notEqual(deaf.code, 0);
    assert.match(deaf.output, /\$PORT|PORT/);
    assert.match(deaf.output, /listening on port 9999 instead/, 'the push shows the instance last log lines');
    assert.equal((await viaRouter(platform, host('steady'))).text, 'steady v1');
    const instances = (await api(platform, 'GET', '/v1/apps/steady/instances')).json.resources as Array<{ state: string }>;
    assert.equal(instances.length, 1, 'the failed deploys removed their new instances');
  });

  test('an env change makes a release; rollback returns to the earlier droplet and env', async () => {
    await createApp('envy');
    const dir = await appDir('envy', {
      Procfile: 'web: node server.js\n',
      'server.js': "require('node:http').createServer((q, r) => r.end(`greeting=${process.env.GREETING || 'none'}`)).listen(process.env.PORT);\n",
    });
    assert.equal((await push('envy', dir)).code, 0);
    assert.equal((await viaRouter(platform, host('envy'))).text, 'greeting=none');
    const changed = await api(platform, 'PATCH', '/v1/apps/envy/env', { var: { GREETING: 'hej' } });
    assert.equal(changed.status, 202, JSON.stringify(changed.json));
    assert.equal(changed.json.release_version, 2);
    await deployed('envy', changed.json.deployment_id);
    await pollUntil('the new env served', async () => (await viaRouter(platform, host('envy'))).text === 'greeting=hej', { timeoutMs: 30_000 });
    const rolled = await api(platform, 'POST', '/v1/apps/envy/actions/rollback', { version: 1 });
    assert.equal(rolled.status, 202, JSON.stringify(rolled.json));
    assert.equal(rolled.json.release_version, 3);
    await deployed('envy', rolled.json.deployment_id);
    await pollUntil('the earlier env served again', async () => (await viaRouter(platform, host('envy'))).text === 'greeting=none', { timeoutMs: 30_000 });
    const releases = (await api(platform, 'GET', '/v1/apps/envy/releases')).json.resources as Array<{ version: number; description: string }>;
    assert.deepEqual(releases.map((r) => r.version).sort(), [1, 2, 3]);
    assert.ok(releases.some((r) => r.version === 3 && /rollback to v1/.test(r.description)));
  });

  test('a release command runs once per deploy before the new release starts; when it fails the deploy stops', async () => {
    await createApp('migrator');
    const dir = await appDir('migrator', {
      Procfile: 'web: node server.js\nrelease: node migrate.js\n',
      'migrate.js': "console.log(`migrating the schema for ${JSON.parse(process.env.VCAP_APPLICATION).application_name}`);\n",
      'server.js': "require('node:http').createServer((q, r) => r.end('migrated v1')).listen(process.env.PORT);\n",
    });
    const pushed = await push('migrator', dir);
    assert.equal(pushed.code, 0, pushed.output);
    assert.match(pushed.output, /migrating the schema for migrator/);
    assert.ok(
      pushed.output.indexOf('migrating the schema') < pushed.output.search(/Starting \d+ web instance/),
      'the release command ran before the new instances started',
    );
    const processes = (await api(platform, 'GET', '/v1/apps/migrator/processes')).json.resources as Array<{ type: string }>;
    assert.deepEqual(processes.map((p) => p.type), ['web'], 'release is not a process of the app');
    assert.equal((await viaRouter(platform, host('migrator'))).text, 'migrated v1');

    await writeFile(join(dir, 'migrate.js'), "console.log('column already exists');\nprocess.exit(4);\n");
    await writeFile(join(dir, 'server.js'), "require('node:http').createServer((q, r) => r.end('migrated v2')).listen(process.env.PORT);\n");
    await commitDir(dir, 'bad migration');
    const failed = await push('migrator', dir);
    assert.notEqual(failed.code, 0);
    assert.match(failed.output, /release command failed/);
    assert.match(failed.output, /column already exists/);
    assert.equal((await viaRouter(platform, host('migrator'))).text, 'migrated v1', 'the previous release keeps serving');
  });

  test('each build log is kept and readable through the API', async () => {
    const builds = (await api(platform, 'GET', '/v1/apps/steady/builds')).json.resources as Array<{ id: string; state: string }>;
    assert.ok(builds.length >= 3, `steady has its builds listed (${builds.length})`);
    const staged = builds.find((b) => b.state === 'STAGED');
    assert.ok(staged);
    const log = await fetch(`${platform.apiUrl}/v1/apps/steady/builds/${staged.id}/log`, { headers: { authorization: `Bearer ${platform.adminToken}` } });
    assert.equal(log.status, 200);
    assert.match(await log.text(), /Procfile app detected/);
    const unknown = await api(platform, 'GET', '/v1/apps/steady/builds/00000000-0000-0000-0000-000000000000/log');
    assert.equal(unknown.status, 404);
    assert.match(unknown.json.error.message, /build/);
  });
});
