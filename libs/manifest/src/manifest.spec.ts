import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatManifestIssue, parseManifest, parseManifestRoute, type ManifestParseResult } from './manifest';

const messages = (issues: ManifestParseResult['errors']) => issues.map(formatManifestIssue);

function ok(text: string, app = 'shop') {
  const result = parseManifest(text, app);
  assert.deepEqual(messages(result.errors), [], 'no errors expected');
  assert.ok(result.app);
  return { app: result.app, warnings: messages(result.warnings) };
}

function failing(text: string, app = 'shop'): string[] {
  const result = parseManifest(text, app);
  assert.equal(result.app, undefined, 'an invalid manifest gives no app');
  assert.ok(result.errors.length > 0);
  return messages(result.errors);
}

describe('routes', () => {
  test('host.domain with an optional path; the host part is lowercased', () => {
    assert.deepEqual(parseManifestRoute('Shop.Apps.Example.com/API/v1'), { fqdn: 'shop.apps.example.com', path: '/API/v1', route: 'shop.apps.example.com/API/v1' });
    assert.deepEqual(parseManifestRoute('example.com'), { fqdn: 'example.com', path: '', route: 'example.com' });
  });

  test('schemes, ports, wildcards, bad labels and bad paths are refused with the reason', () => {
    assert.match(String(parseManifestRoute('https://a.example.com')), /without a scheme/);
    assert.match(String(parseManifestRoute('a.example.com:8443')), /TCP routes/);
    assert.match(String(parseManifestRoute('*.example.com')), /wildcard/);
    assert.match(String(parseManifestRoute('-a.example.com')), /must be a route HOST\.DOMAIN/);
    assert.match(String(parseManifestRoute('a.example.com/x/')), /no trailing/);
    assert.match(String(parseManifestRoute('a.example.com/../x')), /no trailing/);
    assert.match(String(parseManifestRoute(42)), /must be a route/);
  });

  test('route paths must be in the normal form the router matches on', () => {
    assert.match(String(parseManifestRoute('a.example.com/%61pi')), /not in normal form: write it as "\/api"/);
    assert.match(String(parseManifestRoute('a.example.com//api')), /write it as "\/api"/);
    assert.match(String(parseManifestRoute('a.example.com/%2e%2e')), /write it as "" \(the whole host\)/);
    for (const bad of ['a.example.com/a%2Fb', 'a.example.com/a%00', 'a.example.com/a%zz', 'a.example.com/a\\b', 'a.example.com/a%5Cb']) {
      assert.match(String(parseManifestRoute(bad)), /ambiguous/, bad);
    }
    assert.deepEqual(parseManifestRoute('a.example.com/caf%C3%A9'), { fqdn: 'a.example.com', path: '/caf%C3%A9', route: 'a.example.com/caf%C3%A9' });
  });
});

describe('parseManifest', () => {
  test('a full app: web settings, processes, routes, env, buildpack, health check', () => {
    const { app, warnings } = ok(`
version: 1
applications:
- name: shop
  instances: 3
  memory: 256M
  disk_quota: 1G
  command: node server.js
  health-check-type: http
  health-check-http-endpoint: /health
  timeout: 90
  buildpacks: [nodejs]
  routes:
  - route: shop.apps.example.com
  - route: www.example.com/shop
  env:
    GREETING: hello
    WORKERS: 4
    RATIO: 1.5
    DEBUG: false
    ACCOUNT: 12345678901234567890
  processes:
  - type: worker
    instances: 2
    memory: 128M
    command: node worker.js
    health-check-type: process
`);
    assert.deepEqual(warnings, []);
    assert.equal(app.index, 0);
    assert.equal(app.name, 'shop');
    assert.deepEqual(app.processes.web, {
      path: 'applications[0]',
      instances: 3,
      memoryMb: 256,
      diskMb: 1024,
      command: 'node server.js',
      healthCheckType: 'http',
      healthCheckEndpoint: '/health',
      healthCheckTimeoutS: 90,
    });
    assert.deepEqual(app.processes.worker, {
      path: 'applications[0].processes[0]',
      instances: 2,
      memoryMb: 128,
      command: 'node worker.js',
      healthCheckType: 'process',
    });
    assert.deepEqual(
      app.routes.map((r) => [r.fqdn, r.path, r.key]),
      [
        ['shop.apps.example.com', '', 'applications[0].routes[0].route'],
        ['www.example.com', '/shop', 'applications[0].routes[1].route'],
      ],
    );
    assert.deepEqual(
      app.env,
      { GREETING: 'hello', WORKERS: '4', RATIO: '1.5', DEBUG: 'false', ACCOUNT: '12345678901234567890' },
      'numbers and booleans stringified as CF does, long integers with every digit',
    );
    assert.equal(app.buildpack, 'nodejs');
    assert.equal(app.noRoute, false);
    assert.equal(app.randomRoute, false);
  });

  test('an app with nothing but a name changes nothing', () => {
    const { app } = ok('applications:\n- name: shop\n');
    assert.deepEqual(app.processes, {});
    assert.deepEqual(app.routes, []);
    assert.deepEqual(app.env, {});
    assert.equal(app.buildpack, undefined);
  });

  test('unknown keys at every level are warnings that name the key path', () => {
    const { warnings } = ok(`
applications:
- name: shop
  memroy: 1G
  stack: cflinuxfs4
  host: shop
  routes:
  - route: shop.example.com
    protocol: http2
  processes:
  - type: worker
    colour: blue
deploy: fast
`);
    assert.deepEqual(warnings, [
      'deploy: unknown key, ignored (known here: applications, version)',
      'applications[0].memroy: unknown key, ignored: did you mean memory?',
      'applications[0].stack: this platform has one stack; ignored',
      'applications[0].host: deprecated in Cloud Foundry and not supported here: list routes instead (routes: [{route: HOST.DOMAIN}])',
      'applications[0].processes[0].colour: unknown key, ignored (known here: type, instances, memory, disk_quota, cpu, command, health-check-type, health-check-http-endpoint, timeout)',
      'applications[0].routes[0].protocol: only HTTP routes are supported; ignored',
    ]);
  });

  test('services are names or {name} maps, each bound once; parameters are warned and bad names refused', () => {
    const { app, warnings } = ok('applications:\n- name: shop\n  services:\n  - orders-db\n  - name: cache\n    parameters: {size: big}\n  - orders-db\n');
    assert.deepEqual(app.services, [
      { name: 'orders-db', key: 'applications[0].services[0]' },
      { name: 'cache', key: 'applications[0].services[1]' },
    ]);
    assert.deepEqual(warnings, [
      'applications[0].services[1].parameters: service parameters are not supported: the plan decides; ignored',
      'applications[0].services[2]: orders-db is listed twice: bound once',
    ]);
    assert.deepEqual(ok('applications:\n- name: shop\n').app.services, []);
    const errors = failing('applications:\n- name: shop\n  services:\n  - Orders_DB\n  - {name: 3}\n');
    assert.equal(errors.length, 2);
    assert.match(errors[0], /^applications\[0\]\.services\[0\]: must be a service instance name/);
    assert.match(errors[1], /^applications\[0\]\.services\[1\]\.name: must be a service instance name/);
    assert.match(failing('applications:\n- name: shop\n  services: orders-db\n')[0], /must be a list of service instance names/);
  });

  test('invalid values are errors naming the key path and the rule', () => {
    const errors = failing(`
applications:
- name: shop
  instances: -1
  memory: lots
  disk_quota: 2048
  timeout: 0
  health-check-type: tcp
  health-check-http-endpoint: health
  random-route: yes
  env:
    1BAD: x
    PORT: 80
    EMPTY:
  processes:
  - type: Worker
  - instances: 1
  - type: release
  - type: clock
    memory: 100G
`);
    assert.deepEqual(errors, [
      'applications[0].instances: must be a whole number from 0 to 500 (got -1)',
      'applications[0].memory: must be a size with a unit, like 512M or 1G (got "lots")',
      'applications[0].disk_quota: must be a size with a unit, like 512M or 1G (got 2048): a bare number has no unit; write 2048M, or a size like 512M or 1G',
      'applications[0].timeout: must be a whole number of seconds from 1 to 600 (got 0)',
      'applications[0].health-check-type: must be one of port, http, process (got "tcp")',
      'applications[0].health-check-http-endpoint: must be a path starting with /, like /health (got "health")',
      'applications[0].processes[0].type: must be a process type like worker: a-z, 0-9, "_" and "-", at most 63 characters (got "Worker")',
      'applications[0].processes[1].type: is required: the process type, like worker (as in the Procfile)',
      'applications[0].processes[2].type: release is not a process: a Procfile "release:" command runs once per deploy and takes no instances; remove this entry',
      'applications[0].processes[3].memory: must be from 16M to 64G (got "100G")',
      'applications[0].random-route: must be true or false (got "yes")',
      'applications[0].env.1BAD: variable names are letters, digits and "_", not starting with a digit',
      'applications[0].env.PORT: PORT, INSTANCE_INDEX, MEMORY_LIMIT, VCAP_* and CF_* are set by the platform',
      'applications[0].env.EMPTY: must have a value (a string, number or boolean): remove the line, or unset the variable with PATCH /v1/apps/NAME/env',
    ]);
  });

  test('buildpacks: one is used, several are refused, the deprecated buildpack warns, default means detection', () => {
    assert.match(failing('applications:\n- buildpacks: [nodejs, static]\n')[0], /^applications\[0\]\.buildpacks: multi-buildpack is not supported: name one/);
    const deprecated = ok('applications:\n- buildpack: static\n');
    assert.equal(deprecated.app.buildpack, 'static');
    assert.deepEqual(deprecated.warnings, ['applications[0].buildpack: deprecated in Cloud Foundry: write buildpacks: [static]']);
    assert.equal(ok('applications:\n- buildpacks: [default]\n').app.buildpack, undefined);
    assert.equal(ok('applications:\n- buildpacks: []\n').app.buildpack, undefined);
    assert.match(failing('applications:\n- buildpacks: [https://github.com/x/y.git]\n')[0], /buildpacks\[0\]: buildpacks from URLs are not supported/);
    assert.match(failing('applications:\n- buildpacks: [a]\n  buildpack: b\n')[0], /give buildpacks or buildpack, not both/);
  });

  test('health-check-type none means process, with a warning; http without an endpoint is accepted', () => {
    const none = ok('applications:\n- health-check-type: none\n');
    assert.equal(none.app.processes.web.healthCheckType, 'process');
    assert.match(none.warnings[0], /^applications\[0\]\.health-check-type: "none" is deprecated/);
    const http = ok('applications:\n- health-check-type: HTTP\n');
    assert.equal(http.app.processes.web.healthCheckType, 'http');
    assert.equal(http.app.processes.web.healthCheckEndpoint, undefined);
    const ignored = ok('applications:\n- health-check-type: port\n  health-check-http-endpoint: /x\n');
    assert.equal(ignored.app.processes.web.healthCheckEndpoint, undefined);
    assert.match(ignored.warnings[0], /only an http health check uses an endpoint/);
  });

  test('cpu: cores (0.5, "2") or millicores (500m) per process; null is no quota; bad values name the valid forms', () => {
    const { app } = ok('applications:\n- cpu: 0.5\n  processes:\n  - type: worker\n    cpu: 250m\n  - type: clock\n    cpu: null\n  - type: big\n    cpu: "2"\n');
    assert.equal(app.processes.web.cpuMillicores, 500);
    assert.equal(app.processes.worker.cpuMillicores, 250);
    assert.equal(app.processes.clock.cpuMillicores, null);
    assert.equal(app.processes.big.cpuMillicores, 2000);
    assert.equal('cpuMillicores' in ok('applications:\n- memory: 1G\n').app.processes.web, false, 'no cpu key: the quota stays as it is');
    assert.deepEqual(failing('applications:\n- cpu: lots\n  processes:\n  - type: worker\n    cpu: 0\n  - type: clock\n    cpu: 500M\n'), [
      'applications[0].cpu: must be CPU cores like 0.5 or 2, or millicores like 500m (got "lots"); or null for no quota',
      'applications[0].processes[0].cpu: must be from 0.01 (10m) to 64 cores (got 0); or null for no quota',
      'applications[0].processes[1].cpu: must be CPU cores like 0.5 or 2, or millicores like 500m (got "500M"): a capital M is megabytes; millicores take a small m, like 500m; or null for no quota',
    ]);
    assert.deepEqual(failing('applications:\n- cpu: 1\n  processes:\n  - type: web\n    cpu: 2\n'), [
      "applications[0].processes[0].cpu: web's cpu is also set at applications[0].cpu: set it in one place",
    ]);
  });

  test('a web entry under processes merges with the app level; one setting in both places is an error', () => {
    const merged = ok('applications:\n- instances: 2\n  processes:\n  - type: web\n    memory: 512M\n');
    assert.deepEqual({ ...merged.app.processes.web, path: '' }, { path: '', instances: 2, memoryMb: 512 });
    assert.deepEqual(failing('applications:\n- instances: 2\n  processes:\n  - type: web\n    instances: 3\n'), [
      "applications[0].processes[0].instances: web's instances is also set at applications[0].instances: set it in one place",
    ]);
    assert.match(failing('applications:\n- processes:\n  - type: worker\n  - type: worker\n')[0], /processes\[1\]\.type: process type worker is listed twice/);
  });

  test('routes: no-route and routes contradict; random-route is ignored beside routes; duplicates are bound once', () => {
    assert.match(failing('applications:\n- no-route: true\n  routes: [{route: a.example.com}]\n')[0], /no-route: true and routes contradict/);
    const random = ok('applications:\n- random-route: true\n  routes: [{route: a.example.com}, {route: A.example.com}]\n');
    assert.equal(random.app.randomRoute, false);
    assert.equal(random.app.routes.length, 1);
    assert.deepEqual(random.warnings, [
      'applications[0].routes[1].route: a.example.com is listed twice (also applications[0].routes[0].route); bound once',
      'applications[0].random-route: ignored: the app gets the routes listed under routes',
    ]);
    assert.equal(ok('applications:\n- random-route: true\n').app.randomRoute, true);
    assert.equal(ok('applications:\n- no-route: true\n').app.noRoute, true);
    assert.match(failing('applications:\n- routes: shop.example.com\n')[0], /^applications\[0\]\.routes: must be a list of \{route: HOST\.DOMAIN\[\/PATH\]\}/);
    assert.match(failing('applications:\n- routes: [shop.example.com]\n')[0], /^applications\[0\]\.routes\[0\]: must be \{route: HOST\.DOMAIN\[\/PATH\]\}/);
  });

  test('app selection: the entry named like the app; one other name warns; none matching is an error', () => {
    const two = 'applications:\n- name: api\n  instances: 2\n- name: shop\n  instances: 4\n';
    const chosen = ok(two, 'shop');
    assert.equal(chosen.app.index, 1);
    assert.equal(chosen.app.processes.web.instances, 4);
    assert.equal(chosen.app.processes.web.path, 'applications[1]');
    assert.deepEqual(failing(two, 'blog'), [
      'applications: none of the 2 apps is named blog (it names: api, shop): add an entry with name: blog, the app this git remote pushes to',
    ]);
    const other = ok('applications:\n- name: api\n  instances: 2\n', 'shop');
    assert.equal(other.app.processes.web.instances, 2);
    assert.deepEqual(other.warnings, [
      'applications[0].name: the manifest names app "api", but this push goes to shop: the git remote decides the app, so these settings apply to shop',
    ]);
    assert.match(failing('applications:\n- name: shop\n- name: shop\n')[0], /applications\[1\]\.name: shop is named twice/);
  });

  test('errors in the entries of other apps do not block this one', () => {
    const { app } = ok('applications:\n- name: api\n  memory: lots\n- name: shop\n  memory: 1G\n');
    assert.equal(app.processes.web.memoryMb, 1024);
  });

  test('invalid YAML is an error with its line and column', () => {
    const [error] = failing('applications:\n- name: shop\n  env:\n    A: 1\n    A: 2\n');
    assert.match(error, /^invalid YAML at line 5, column 5: Map keys must be unique$/);
    assert.match(failing('applications:\n- name: shop\n  memory: [1G\n')[0], /^invalid YAML at line \d+, column \d+: /);
  });

  test('aliases that expand too much, or have no anchor, are errors, not crashes', () => {
    const level = (name: string, of: string) => `${name}: &${name} [${Array(9).fill(of).join(', ')}]\n`;
    const bomb = level('a', '"x"') + level('b', '*a') + level('c', '*b') + level('d', '*c') + level('e', '*d') + 'applications: [{name: shop}]\n';
    assert.match(failing(bomb)[0], /^invalid YAML: Excessive alias count/);
    assert.match(failing('applications: [{name: shop, env: {A: *nope}}]\n')[0], /^invalid YAML: Unresolved alias/);
  });

  test('the file as a whole: empty, not a map, no applications, another version', () => {
    assert.match(failing('')[0], /the manifest is empty/);
    assert.match(failing('- a\n- b\n')[0], /must be a map with an applications list/);
    assert.match(failing('name: shop\n')[0], /^applications: must be a list with the app's settings/);
    assert.match(failing('applications: []\n')[0], /^applications: must be a list/);
    assert.deepEqual(failing('version: 2\napplications:\n- name: shop\n'), ['version: only version 1 is supported (got 2)']);
    assert.match(failing('applications:\n- shop\n')[0], /^applications\[0\]: must be a map of settings/);
  });

  test('YAML merge keys work; ((variables)) warn that they are not substituted', () => {
    const { app, warnings } = ok('defaults: &defaults\n  memory: 512M\napplications:\n- <<: *defaults\n  name: shop\n  env:\n    SECRET: ((secret))\n');
    assert.equal(app.processes.web.memoryMb, 512);
    assert.equal(app.env.SECRET, '((secret))');
    assert.ok(warnings.some((w) => /\(\(variables\)\) are not substituted/.test(w)));
    assert.ok(warnings.some((w) => /^defaults: unknown key/.test(w)));
  });

  test('a huge instance count is refused, not rounded', () => {
    assert.deepEqual(failing('applications:\n- instances: 99999999999999999999\n'), ['applications[0].instances: must be a whole number from 0 to 500 (got 99999999999999999999)']);
  });

  test('command: null goes back to the Procfile or buildpack command', () => {
    assert.equal(ok('applications:\n- command: null\n').app.processes.web.command, null);
    assert.match(failing('applications:\n- command: ""\n')[0], /^applications\[0\]\.command: must be a command/);
  });
});

describe('text that cannot be stored', () => {
  test('a NUL, a lone surrogate or a control character in an env value, a command or a key is refused with its key path', () => {
    assert.deepEqual(failing('applications:\n- name: shop\n  env:\n    A: "x\\0y"\n'), ['applications[0].env.A: must not contain a NUL character (\\u0000): remove it']);
    assert.match(failing('applications:\n- name: shop\n  env:\n    A: "x\\ud800"\n')[0], /^applications\[0\]\.env\.A: must be well-formed Unicode/);
    assert.match(failing('applications:\n- name: shop\n  command: "node \\x1b server.js"\n')[0], /^applications\[0\]\.command: must not contain control characters/);
    assert.match(failing('applications:\n- name: other\n- name: shop\n  processes:\n  - type: worker\n    command: "a\\0"\n')[0], /^applications\[1\]\.processes\[0\]\.command: must not contain a NUL/);
    assert.match(failing('applications:\n- name: shop\n  env:\n    "A\\0": x\n')[0], /^applications\[0\]\.env\.A\\u0000: its name must not contain a NUL/);
  });

  test('multi-line env values and other apps\' entries are not affected', () => {
    assert.equal(ok('applications:\n- name: shop\n  env:\n    KEY: "line1\\nline2\\ttab"\n').app.env.KEY, 'line1\nline2\ttab');
    ok('applications:\n- name: other\n  env: {A: "\\0"}\n- name: shop\n');
  });
});
