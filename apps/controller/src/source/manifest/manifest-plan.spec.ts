import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseManifest, type ManifestApp, type ManifestRoute } from '@paas/manifest';
import {
  commandlessTypes,
  describeProcess,
  processChanges,
  randomHost,
  releaseProcessTypes,
  resolveRoute,
  type KnownDomain,
  type ProcessFields,
} from './manifest-plan';

const route = (fqdn: string, path = ''): ManifestRoute => ({ fqdn, path, route: fqdn + path, key: 'applications[0].routes[0].route' });
const DOMAINS: KnownDomain[] = [
  { id: 'shared', name: 'apps.example.com', orgId: null },
  { id: 'mine', name: 'shop.example.org', orgId: 'org-1' },
  { id: 'theirs', name: 'other.example.net', orgId: 'org-2' },
];

function app(text: string): ManifestApp {
  const parsed = parseManifest(text, 'shop');
  assert.deepEqual(parsed.errors, []);
  return parsed.app!;
}

describe('resolveRoute', () => {
  test('the first label is the host on a shared domain', () => {
    assert.deepEqual(resolveRoute(route('a.apps.example.com', '/api'), DOMAINS, 'org-1'), {
      domainId: 'shared',
      domainName: 'apps.example.com',
      host: 'a',
      path: '/api',
      url: 'a.apps.example.com/api',
      key: 'applications[0].routes[0].route',
    });
  });

  test('a private domain of the app org may be the whole route (empty host)', () => {
    const resolved = resolveRoute(route('shop.example.org'), DOMAINS, 'org-1');
    assert.equal(typeof resolved, 'object');
    assert.deepEqual(resolved, { domainId: 'mine', domainName: 'shop.example.org', host: '', path: '', url: 'shop.example.org', key: 'applications[0].routes[0].route' });
  });

  test('a shared domain alone, a domain of another org, an unknown domain: each says why', () => {
    assert.match(String(resolveRoute(route('apps.example.com'), DOMAINS, 'org-1')), /is a shared domain: a route on it needs a host, like myapp\.apps\.example\.com/);
    assert.match(String(resolveRoute(route('x.other.example.net'), DOMAINS, 'org-1')), /private to another org/);
    assert.match(
      String(resolveRoute(route('x.nowhere.test'), DOMAINS, 'org-1')),
      /no domain of this platform matches x\.nowhere\.test: use a route on apps\.example\.com, shop\.example\.org \(GET \/v1\/domains\)/,
    );
  });
});

describe('processChanges', () => {
  const current: ProcessFields = {
    instances: 1,
    memoryMb: 256,
    diskMb: 1024,
    cpuMillicores: null,
    command: null,
    healthCheckType: 'PORT',
    healthCheckEndpoint: null,
    healthCheckTimeoutS: 60,
  };

  test('only the fields that differ', () => {
    assert.deepEqual(processChanges('web', { path: 'a', instances: 1, memoryMb: 512 }, current), { memoryMb: 512 });
    assert.deepEqual(processChanges('web', { path: 'a', instances: 1, memoryMb: 256 }, current), {});
  });

  test('cpu: a quota is set, changed or removed (null); leaving it out keeps it', () => {
    assert.deepEqual(processChanges('web', { path: 'a', cpuMillicores: 500 }, current), { cpuMillicores: 500 });
    assert.deepEqual(processChanges('web', { path: 'a', cpuMillicores: null }, current), {});
    const limited = { ...current, cpuMillicores: 500 };
    assert.deepEqual(processChanges('web', { path: 'a', cpuMillicores: 500 }, limited), {});
    assert.deepEqual(processChanges('web', { path: 'a', cpuMillicores: 1500 }, limited), { cpuMillicores: 1500 });
    assert.deepEqual(processChanges('web', { path: 'a', cpuMillicores: null }, limited), { cpuMillicores: null });
    assert.deepEqual(processChanges('web', { path: 'a', memoryMb: 512 }, limited), { memoryMb: 512 });
    assert.equal(describeProcess('web', { path: 'a', cpuMillicores: 250 }), 'web cpu 0.25');
    assert.equal(describeProcess('web', { path: 'a', cpuMillicores: null }), 'web no cpu quota');
  });

  test('an http check without an endpoint keeps the current one, else /; another type drops it', () => {
    assert.deepEqual(processChanges('web', { path: 'a', healthCheckType: 'http' }, current), { healthCheckType: 'HTTP', healthCheckEndpoint: '/' });
    assert.deepEqual(processChanges('web', { path: 'a', healthCheckType: 'http' }, { ...current, healthCheckEndpoint: '/up' }), { healthCheckType: 'HTTP' });
    assert.deepEqual(processChanges('web', { path: 'a', healthCheckType: 'port' }, { ...current, healthCheckType: 'HTTP', healthCheckEndpoint: '/up' }), {
      healthCheckType: 'PORT',
      healthCheckEndpoint: null,
    });
  });

  test('a new process type gets 1 instance and its default check', () => {
    assert.deepEqual(processChanges('worker', { path: 'a', command: 'node w.js' }, undefined), { instances: 1, command: 'node w.js', healthCheckType: 'PROCESS' });
    assert.deepEqual(processChanges('clock', { path: 'a', instances: 0 }, undefined), { instances: 0, healthCheckType: 'PROCESS' });
  });
});

describe('commands', () => {
  const manifest = app('applications:\n- processes:\n  - type: worker\n  - type: clock\n    command: node clock.js\n  - type: mailer\n');

  test('a type the manifest names needs a command from the manifest, the process or the Procfile', () => {
    assert.deepEqual(commandlessTypes(manifest, { web: 'node s.js', worker: 'node w.js' }, { mailer: 'node m.js' }), []);
    assert.deepEqual(commandlessTypes(manifest, { web: 'node s.js' }, {}), [
      'applications[0].processes[0]: process type worker has no command: give it a command in the manifest, or add a "worker:" line to the Procfile',
      'applications[0].processes[2]: process type mailer has no command: give it a command in the manifest, or add a "mailer:" line to the Procfile',
    ]);
  });

  test('the release lists the droplet commands plus the manifest ones the Procfile lacks', () => {
    assert.deepEqual(releaseProcessTypes(manifest, { web: 'node s.js', clock: 'from procfile', release: 'migrate' }), {
      web: 'node s.js',
      clock: 'from procfile',
      release: 'migrate',
    });
    assert.deepEqual(releaseProcessTypes(manifest, { web: 'node s.js' }), { web: 'node s.js', clock: 'node clock.js' });
    assert.deepEqual(releaseProcessTypes(undefined, { web: 'node s.js' }), { web: 'node s.js' });
  });
});

test('describeProcess says what the manifest set', () => {
  assert.equal(
    describeProcess('web', { path: '', instances: 3, memoryMb: 256, diskMb: 1024, healthCheckType: 'http', healthCheckEndpoint: '/health', healthCheckTimeoutS: 30 }),
    'web 3 instances, 256M, disk 1G, http check /health (30 s)',
  );
  assert.equal(describeProcess('worker', { path: '', instances: 1, command: 'node w.js' }), 'worker 1 instance, command "node w.js"');
  assert.equal(describeProcess('web', { path: '', command: null }), 'web the Procfile command');
});

test('randomHost is the app name and six letters, one DNS label', () => {
  let i = 0;
  assert.equal(randomHost('shop', () => (i++ % 26) / 26), 'shop-abcdef');
  const long = randomHost('a'.repeat(63));
  assert.ok(long.length <= 63 && /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(long), long);
});
