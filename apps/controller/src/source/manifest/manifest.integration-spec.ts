/**
 * manifest.yml on push and kept build logs, against the real controller on a private Postgres
 * and Redis, with the real cell agent on the fake runtime (testing/cell-agent.ts). The pushed source
 * is a real tar (as `git archive` makes), sent through the same internal endpoint the git hook uses.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminActor, startControllerHarness, type ControllerHarness } from '../../testing/controller-harness';
import { CellJobName } from '@paas/contracts';
import { startCellAgent, type CellAgentProcess } from '../../testing/cell-agent';
import { cellJobs } from '../../testing/cell-jobs';
import { pushThroughHook } from '../../testing/push';
import { createOrg, createSpace, createUser, expectStatus, grant } from '../../testing/tenancy-fixtures';
import { pollUntil as until } from '@paas/local-services';
import { tarOf } from '../../testing/source-tar';


/** The lines a push said, without the result marker. */
const saidLines = (text: string) => text.split('\n').filter((l) => l !== '' && !l.startsWith('PAAS-RESULT'));

describe('manifest.yml on push, and build logs', () => {
  let h: ControllerHarness;
  let cell: CellAgentProcess;
  let admin: { userId: string; name: string; isAdmin: boolean };
  let domain: string;

  const push = (app: string, files?: Record<string, string>) =>
    files ? tarOf(files).then((tar) => pushThroughHook(h.url, h.internalToken, app, admin, tar)) : pushThroughHook(h.url, h.internalToken, app, admin);
  const processes = async (app: string) =>
    Object.fromEntries(((await h.call('GET', `/v1/apps/${app}/processes`)).body.resources as Array<{ type: string }>).map((p) => [p.type, p])) as Record<
      string,
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- read field by field
      any
    >;
  const appId = async (app: string) => expectStatus(await h.call('GET', `/v1/apps/${app}`), 200).body.id as string;
  /** url -> bound process types of this app, sorted. */
  const routesOf = async (app: string) => {
    const id = await appId(app);
    const routes = (await h.call('GET', `/v1/routes?app_ids=${id}&per_page=200`)).body.resources as Array<{
      url: string;
      destinations: Array<{ app: { id: string }; process_type: string }>;
    }>;
    return Object.fromEntries(
      routes
        .map((r) => [r.url, r.destinations.filter((d) => d.app.id === id).map((d) => d.process_type).sort()] as const)
        .filter(([, types]) => types.length > 0)
        .sort(([a], [b]) => a.localeCompare(b)),
    );
  };
  const envOf = async (app: string) => (await h.call('GET', `/v1/apps/${app}/env`)).body.var as Record<string, string>;
  const releaseCount = async (app: string) => (await h.call('GET', `/v1/apps/${app}/releases`)).body.pagination.total_results as number;
  const latestBuild = async (app: string) => (await h.call('GET', `/v1/apps/${app}/builds?per_page=1`)).body.resources[0];
  const running = async (app: string) =>
    ((await h.call('GET', `/v1/apps/${app}/instances`)).body.resources as Array<{ state: string; process_type: string }>).filter((i) => i.state === 'RUNNING');
  /** Everything a push may change, to compare before and after. */
  const snapshot = async (app: string) => ({
    processes: await processes(app),
    routes: await routesOf(app),
    env: await envOf(app),
    releases: await releaseCount(app),
  });

  before(async () => {
    h = await startControllerHarness();
    admin = await adminActor(h);
    const domains = (await h.call('GET', '/v1/domains')).body.resources as Array<{ name: string; default: boolean }>;
    domain = domains.find((d) => d.default)!.name;
    cell = await startCellAgent(h, 'fake-m', { operatorBuildpacks: ['failing'] });
  });

  after(async () => {
    await cell?.stop();
    await h?.stop();
  });

  const manifest = () => `
applications:
- name: shop
  instances: 3
  memory: 256M
  disk_quota: 512M
  health-check-type: http
  health-check-http-endpoint: /health
  timeout: 30
  buildpacks: [nodejs]
  memroy: 1G
  routes:
  - route: shop-a.${domain}
  - route: shop-b.${domain}/api
  env:
    GREETING: hello
    WORKERS: 4
  processes:
  - type: worker
    instances: 1
    memory: 128M
    cpu: 250m
    command: node worker.js
`;

  test('a manifest with 3 instances, two routes, env, a health check and a worker sets up the app and its release', async () => {
    expectStatus(await h.call('POST', '/v1/apps', { name: 'shop' }), 201);
    const result = await push('shop', { 'manifest.yml': manifest(), 'server.js': 'require("http")', Procfile: 'web: node server.js\nrelease: echo migrated\n' });
    assert.ok(result.ok, result.text);
    const lines = saidLines(result.text);
    assert.ok(lines.includes('!     manifest.yml: applications[0].memroy: unknown key, ignored: did you mean memory?'), result.text);
    assert.ok(lines.includes('-----> Buildpack nodejs (named by manifest.yml)'), result.text);
    assert.ok(
      lines.includes('-----> Manifest: web 3 instances, 256M, disk 512M, http check /health (30 s); worker 1 instance, 128M, cpu 0.25, command "node worker.js"'),
      result.text,
    );
    assert.ok(lines.includes('-----> Manifest: env GREETING, WORKERS'), result.text);
    assert.ok(lines.includes(`-----> Manifest: routes shop-a.${domain}, shop-b.${domain}/api`), result.text);

    const procs = await processes('shop');
    assert.deepEqual(Object.keys(procs).sort(), ['web', 'worker'], 'the Procfile release type is no process');
    assert.equal(procs.web.instances, 3);
    assert.equal(procs.web.memory_mb, 256);
    assert.equal(procs.web.disk_mb, 512);
    assert.deepEqual(procs.web.health_check, { type: 'http', endpoint: '/health', timeout: 30 });
    assert.equal(procs.worker.instances, 1);
    assert.equal(procs.worker.memory_mb, 128);
    assert.equal(procs.worker.command, 'node worker.js');
    assert.equal(procs.worker.cpu_millicores, 250);
    assert.equal(procs.web.cpu_millicores, null, 'no cpu key: no quota');
    const workerJob = (await cellJobs(h, cell.id, CellJobName.StartInstance))
      .map((j) => j.data as { appName: string; processType: string; cpuMillicores?: number })
      .find((j) => j.appName === 'shop' && j.processType === 'worker');
    assert.equal(workerJob?.cpuMillicores, 250, 'the worker starts with its quota');
    assert.equal(procs.worker.health_check.type, 'process');

    assert.deepEqual(await routesOf('shop'), {
      [`shop-a.${domain}`]: ['web'],
      [`shop-b.${domain}/api`]: ['web'],
      [`shop.${domain}`]: ['web'],
    });
    assert.deepEqual(await envOf('shop'), { GREETING: 'hello', WORKERS: '4' });

    const release = (await h.call('GET', '/v1/apps/shop/releases/v1')).body;
    assert.deepEqual(release.process_types, { web: 'node server.js', worker: 'node worker.js', release: 'echo migrated' });
    assert.deepEqual(release.env_names, ['GREETING', 'WORKERS']);
    assert.equal(release.buildpack, 'nodejs', 'the manifest buildpack was given to staging');
    assert.equal(release.current, true);
    await until('3 web and 1 worker instances running', async () => {
      const all = await running('shop');
      return all.filter((i) => i.process_type === 'web').length === 3 && all.filter((i) => i.process_type === 'worker').length === 1;
    });
    assert.match(lines.at(-1)!, new RegExp(`is live at .*shop-a\\.${domain.replace(/\./g, '\\.')}`));
  });

  test('pushing the same manifest again changes nothing but the release', async () => {
    const before = await snapshot('shop');
    const result = await push('shop', { 'manifest.yml': manifest() });
    assert.ok(result.ok, result.text);
    const after = await snapshot('shop');
    assert.equal(after.releases, before.releases + 1);
    assert.deepEqual({ ...after, releases: 0 }, { ...before, releases: 0 }, 'routes bound once, processes and env as they were');
  });

  test('an invalid manifest rejects the push before staging, naming each key and rule, and changes nothing', async () => {
    const before = await snapshot('shop');
    const result = await push('shop', {
      'manifest.yml': `applications:\n- name: shop\n  instances: 1\n  memory: lots\n  env: {GREETING: bye}\n  routes:\n  - route: shop.nowhere.example\n  - route: shop-c.${domain}\n`,
    });
    assert.equal(result.ok, false, result.text);
    const lines = saidLines(result.text);
    assert.ok(lines.includes('!     manifest.yml: applications[0].memory: must be a size with a unit, like 512M or 1G (got "lots")'), result.text);
    assert.ok(lines.includes('!     manifest.yml is invalid: fix the error above and push again'), result.text);
    assert.ok(!lines.some((l) => l.startsWith('-----> Staging')), 'nothing was staged');
    assert.deepEqual(await snapshot('shop'), before);

    // Valid values, but a route on a domain the platform does not know: refused before staging too.
    const unknownDomain = await push('shop', { 'manifest.yml': `applications:\n- instances: 1\n  routes:\n  - route: shop.nowhere.example\n` });
    assert.equal(unknownDomain.ok, false);
    assert.match(unknownDomain.text, /manifest\.yml: applications\[0\]\.routes\[0\]\.route: no domain of this platform matches shop\.nowhere\.example: use a route on /);
    assert.ok(!unknownDomain.text.includes('-----> Staging'));
    assert.deepEqual(await snapshot('shop'), before);
    const build = await latestBuild('shop');
    assert.equal(build.state, 'FAILED');
    assert.match(build.error, /manifest\.yml is invalid/);
  });

  test('a route of another space is refused before staging', async () => {
    const org = await createOrg(h, 'others');
    const space = await createSpace(h, org, 'theirs');
    const domainId = ((await h.call('GET', '/v1/domains')).body.resources as Array<{ id: string; default: boolean }>).find((d) => d.default)!.id;
    expectStatus(await h.call('POST', '/v1/routes', { host: 'taken', domain_id: domainId, space_id: space }), 201);
    const before = await snapshot('shop');
    const result = await push('shop', { 'manifest.yml': `applications:\n- routes:\n  - route: taken.${domain}\n` });
    assert.equal(result.ok, false);
    assert.match(result.text, new RegExp(`applications\\[0\\]\\.routes\\[0\\]\\.route: the host taken\\.${domain.replace(/\./g, '\\.')} belongs to space theirs of org others: a host belongs to one space`));
    assert.deepEqual(await snapshot('shop'), before);
  });

  test('a path route on another space\'s host (hostname takeover) is refused, whatever the spelling of the path', async () => {
    const org = await createOrg(h, 'victims');
    const space = await createSpace(h, org, 'owner');
    const domainId = ((await h.call('GET', '/v1/domains')).body.resources as Array<{ id: string; default: boolean }>).find((d) => d.default)!.id;
    expectStatus(await h.call('POST', '/v1/routes', { host: 'bank', domain_id: domainId, space_id: space }), 201);
    const before = await snapshot('shop');
    const takeover = await push('shop', { 'manifest.yml': `applications:\n- routes:\n  - route: bank.${domain}/api\n` });
    assert.equal(takeover.ok, false);
    assert.match(takeover.text, new RegExp(`routes\\[0\\]\\.route: the host bank\\.${domain.replace(/\./g, '\\.')} belongs to space owner of org victims: a host belongs to one space`));
    for (const path of ['/%61pi', '//api', '/x/../api', '/a%2Fb', '/a%00', '/a%zz']) {
      const res = await push('shop', { 'manifest.yml': `applications:\n- routes:\n  - route: "bank.${domain}${path}"\n` });
      assert.equal(res.ok, false, path);
      assert.match(res.text, /normal form/, path);
    }
    assert.deepEqual(await snapshot('shop'), before);
    const routes = (await h.call('GET', '/v1/routes?hosts=bank')).body.resources as Array<{ path: string; space_id: string }>;
    assert.deepEqual(routes.map((r) => [r.path, r.space_id]), [['', space]], 'the owner\'s host has only its own route');
  });

  test('a failed build changes nothing, and its log is kept', async () => {
    const before = await snapshot('shop');
    const result = await push('shop', {
      'manifest.yml': `applications:\n- instances: 5\n  buildpacks: [failing]\n  env: {GREETING: bye}\n  routes:\n  - route: shop-d.${domain}\n  processes:\n  - type: clock\n    command: node clock.js\n`,
    });
    assert.equal(result.ok, false, result.text);
    // The real stager's reason: the buildpack's exit status and its last stderr line.
    assert.match(result.text, /build failed \(exit 1\): npm ERR! missing script: build/);
    assert.deepEqual(await snapshot('shop'), before);
    const build = await latestBuild('shop');
    assert.equal(build.state, 'FAILED');
    const log = await h.call('GET', `/v1/apps/shop/builds/${build.id}/log`);
    assert.equal(log.status, 200);
    assert.match(log.headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(log.headers.get('x-paas-log-complete'), 'true');
    assert.deepEqual(saidLines(String(log.body)), saidLines(result.text), 'the log is what the pusher saw');
    assert.ok(saidLines(String(log.body)).some((l) => l.trim() === 'npm ERR! missing script: build'), String(log.body));
  });

  test('build logs: text and JSON, since, 404 naming the fix, and access checks', async () => {
    const first = (await h.call('GET', '/v1/apps/shop/builds?per_page=200')).body.resources.at(-1);
    assert.equal(first.state, 'STAGED');
    const text = await h.call('GET', `/v1/apps/shop/builds/${first.id}/log`);
    assert.equal(text.status, 200);
    const lines = saidLines(String(text.body));
    assert.ok(lines.includes('-----> Using manifest.yml (applications[0])'));
    assert.ok(lines.some((l) => l.startsWith('-----> Release v1:')));
    assert.ok(lines.some((l) => /Starting 3 web instance/.test(l)), 'deploy progress is in the log');
    assert.match(lines.at(-1)!, /is live at/);

    const json = await h.call('GET', `/v1/apps/shop/builds/${first.id}/log?format=json`);
    assert.equal(json.status, 200);
    assert.equal(json.body.build_id, first.id);
    assert.equal(json.body.complete, true);
    assert.equal(json.body.dropped_lines, 0);
    assert.deepEqual(
      json.body.lines.map((l: { seq: number }) => l.seq),
      lines.map((_, i) => i + 1),
    );
    assert.equal(json.body.last_seq, lines.length);
    const tail = await h.call('GET', `/v1/apps/shop/builds/${first.id}/log?format=json&since=${lines.length - 2}`);
    assert.deepEqual(
      tail.body.lines.map((l: { text: string }) => l.text),
      lines.slice(-2),
    );

    const unknown = await h.call('GET', '/v1/apps/shop/builds/00000000-0000-4000-8000-000000000000/log');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'not-found');
    assert.match(unknown.body.error.message, /GET \/v1\/apps\/shop\/builds/);
    assert.equal((await h.call('GET', '/v1/apps/shop/builds/nope/log')).status, 404);
    assert.equal((await h.call('GET', `/v1/apps/shop/builds/${first.id}/log?format=xml`)).status, 400);
    assert.equal((await h.call('GET', `/v1/apps/shop/builds/${first.id}/log?since=-1`)).status, 400);
    assert.equal((await h.call('GET', `/v1/apps/shop/builds/${first.id}/log`, undefined, null)).status, 401);

    // Another app's build id is unknown here; a user without a role in the space sees no app.
    expectStatus(await h.call('POST', '/v1/apps', { name: 'other', no_route: true }), 201);
    assert.equal((await h.call('GET', `/v1/apps/other/builds/${first.id}/log`)).status, 404);
    const stranger = await createUser(h, 'stranger');
    assert.equal((await h.call('GET', `/v1/apps/shop/builds/${first.id}/log`, undefined, stranger.token)).status, 404);
    const defaultSpace = (await h.call('GET', '/v1/apps/shop')).body.space_id as string;
    const viewer = await createUser(h, 'viewer');
    await grant(h, defaultSpace, viewer, 'viewer');
    assert.equal((await h.call('GET', `/v1/apps/shop/builds/${first.id}/log`, undefined, viewer.token)).status, 200);

    const spec = (await h.call('GET', '/v1/openapi.json', undefined, null)).body;
    const documented = spec.paths['/v1/apps/{app}/builds/{id}/log']?.get;
    assert.ok(documented, 'the log endpoint is in the OpenAPI document');
    assert.deepEqual(Object.keys(documented.responses['200'].content).sort(), ['application/json', 'text/plain']);
    assert.ok(documented.responses['404']);
  });

  test('the build log is readable while the push runs', async () => {
    expectStatus(await h.call('POST', '/v1/apps', { name: 'slow', no_route: true }), 201);
    const pushing = push('slow', { 'manifest.yml': 'applications:\n- command: node server.js hang\n  timeout: 3\n' });
    const build = await until('the build to start', () => latestBuild('slow'));
    const partial = await until('staging lines in the log while the deploy runs', async () => {
      const res = await h.call('GET', `/v1/apps/slow/builds/${build.id}/log?format=json`);
      return res.body.lines?.some((l: { text: string }) => /Starting 1 web instance/.test(l.text)) && !res.body.complete ? res.body : undefined;
    });
    assert.equal(partial.complete, false);
    // The instance never gets healthy: end the deploy now rather than after its health-check timeout.
    const deployment = await until('the deployment', async () => (await h.call('GET', '/v1/apps/slow/deployments?per_page=1')).body.resources[0]);
    await h.call('POST', `/v1/apps/slow/deployments/${deployment.id}/cancel`);
    const result = await pushing;
    assert.equal(result.ok, false, 'a deploy that never gets healthy (or is canceled) fails the push');
    const done = await h.call('GET', `/v1/apps/slow/builds/${build.id}/log?format=json`);
    assert.equal(done.body.complete, true);
    assert.ok(done.body.lines.length > partial.lines.length);
  });

  test('no-route unbinds web from every route and says so', async () => {
    expectStatus(await h.call('POST', '/v1/apps', { name: 'quiet' }), 201);
    assert.deepEqual(await routesOf('quiet'), { [`quiet.${domain}`]: ['web'] });
    const result = await push('quiet', { 'manifest.yml': 'applications:\n- name: quiet\n  no-route: true\n' });
    assert.ok(result.ok, result.text);
    assert.ok(saidLines(result.text).includes(`-----> Manifest: no-route: web unbound from quiet.${domain}; the app has no route`), result.text);
    assert.match(saidLines(result.text).at(-1)!, /runs with no route/);
    assert.deepEqual(await routesOf('quiet'), {});
  });

  test('random-route gives a route only to an app without one', async () => {
    expectStatus(await h.call('POST', '/v1/apps', { name: 'lucky', no_route: true }), 201);
    const first = await push('lucky', { 'manifest.yml': 'applications:\n- random-route: true\n' });
    assert.ok(first.ok, first.text);
    const routes = Object.keys(await routesOf('lucky'));
    assert.equal(routes.length, 1);
    assert.match(routes[0], new RegExp(`^lucky-[a-z]{6}\\.${domain.replace(/\./g, '\\.')}$`));
    const again = await push('lucky', { 'manifest.yml': 'applications:\n- random-route: true\n' });
    assert.ok(again.ok, again.text);
    assert.deepEqual(Object.keys(await routesOf('lucky')), routes, 'no second random route');
  });

  test('the BUILDPACK variable names a buildpack when the manifest does not; the manifest wins', async () => {
    expectStatus(await h.call('POST', '/v1/apps', { name: 'bp', no_route: true }), 201);
    expectStatus(await h.call('PATCH', '/v1/apps/bp/env', { var: { BUILDPACK: 'static' } }), 202);
    const plain = await push('bp');
    assert.ok(plain.ok, plain.text);
    assert.match(plain.text, /Buildpack static \(named by the BUILDPACK variable\)/);
    assert.equal((await latestBuild('bp')).buildpack, 'static');
    const named = await push('bp', { 'manifest.yml': 'applications:\n- buildpacks: [nodejs]\n' });
    assert.ok(named.ok, named.text);
    assert.equal((await latestBuild('bp')).buildpack, 'nodejs');
  });

  test('several apps in the manifest: the one named like the app is used; none matching rejects the push', async () => {
    const two = 'applications:\n- name: api\n  instances: 2\n- name: bp\n  instances: 2\n';
    const ok = await push('bp', { 'manifest.yml': two });
    assert.ok(ok.ok, ok.text);
    assert.ok(saidLines(ok.text).includes('-----> Using manifest.yml (applications[1])'));
    assert.equal((await processes('bp')).web.instances, 2);
    const none = await push('bp', { 'manifest.yml': 'applications:\n- name: api\n- name: web\n' });
    assert.equal(none.ok, false);
    assert.match(none.text, /manifest\.yml: applications: none of the 2 apps is named bp \(it names: api, web\)/);
  });
});
