/**
 * How the router reads a request target before routing it: the normal form of its path (the
 * attacker's encodings of /api all are /api), ambiguous paths refused as `bad-path`, queries left
 * out of the match, absolute-form targets reduced to their origin form.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RouteEntry } from '@paas/contracts';
import { RouteTable } from './route-table';
import { RouterErrorCode } from './router-error';
import { resolveRoute, routingTarget } from './server';

const HOST = 'victim.apps.localhost';

function pathOf(url: string): string {
  const target = routingTarget(url);
  assert.ok(target.ok, `${url}: ${target.ok ? '' : target.error.message}`);
  return target.path;
}

/** A table where HOST's "/" belongs to app root and "/api" to app api, both live. */
function table(): RouteTable {
  const t = new RouteTable(() => 0);
  const entry = (path: string, appId: string): RouteEntry => ({
    routeId: `r${path}`,
    host: HOST,
    path,
    destinations: [{ id: `d-${appId}`, appId, processType: 'web', port: 8080 }],
  });
  t.replaceHost(HOST, [entry('', 'root'), entry('/api', 'api')]);
  for (const appId of ['root', 'api']) {
    t.replaceEndpoints(appId, 'web', [{ instanceId: appId, appId, processType: 'web', index: 0, address: '127.0.0.1:1', cellId: 'c', expiresAt: 1 }]);
  }
  return t;
}

function appFor(t: RouteTable, url: string): string {
  const target = routingTarget(url);
  assert.ok(target.ok, url);
  const found = resolveRoute(t, HOST, target.path, true);
  assert.ok(found.ok, url);
  return found.route.destinations[0]!.appId;
}

describe('routingTarget', () => {
  it('routes every spelling of /api to the /api route, not to the host\'s / app', () => {
    const t = table();
    const spellings = ['/api', '/x/../api', '//api', '/./api', '/%61pi', '/%2e%2e/api', '/%2E/api', '/.%2e/api', '///api/', '/x/%2e%2e/api/users', '/api?x=/..', '/api/?x', 'http://victim.apps.localhost/x/../api', 'http://victim.apps.localhost//%61pi?q'];
    for (const url of spellings) assert.equal(appFor(t, url), 'api', url);
  });

  it('keeps the prefix boundary: /apix, /api/../x and /%61pix are not /api', () => {
    const t = table();
    for (const url of ['/apix', '/api/../x', '/%61pix', '/ap', '/', '/API', '/api/..', '*', '/xapi']) assert.equal(appFor(t, url), 'root', url);
  });

  it('matches without the query and leaves the query alone', () => {
    assert.equal(pathOf('/api?x=/../../y%2F'), '/api');
    assert.equal(pathOf('/a/./b?%zz'), '/a/b', 'an invalid escape in the query is the app\'s business');
    const target = routingTarget('/x/../api?q=%zz');
    assert.ok(target.ok);
    assert.equal(target.originForm, '/x/../api?q=%zz', 'the backend gets the target as sent');
  });

  it('an absolute-form target: routed by its normal path, forwarded in origin form, its host kept apart', () => {
    const target = routingTarget('http://Victim.Apps.Localhost:8080/x/../api?q');
    assert.ok(target.ok);
    assert.deepEqual([target.path, target.originForm, target.authority], ['/api', '/x/../api?q', 'Victim.Apps.Localhost:8080']);
    const bare = routingTarget('http://victim.apps.localhost');
    assert.ok(bare.ok);
    assert.deepEqual([bare.path, bare.originForm], ['/', '/']);
    const query = routingTarget('http://victim.apps.localhost?x');
    assert.ok(query.ok);
    assert.deepEqual([query.path, query.originForm], ['/', '/?x']);
  });

  it('refuses ambiguous paths with the router\'s bad-path error', () => {
    const ambiguous = [
      '/api%2Fx',
      '/%2e%2e%2fapi',
      '/api%5Cx',
      '/..\\api',
      '/api\\',
      '/api%00',
      '/api%0d%0a',
      '/api%7F',
      '/api%zz',
      '/api%',
      '/api%4',
      '/x/..;/api',
      '/api#x',
      'http://victim.apps.localhost/a%2Fb',
      'api',
    ];
    for (const url of ambiguous) {
      const target = routingTarget(url);
      assert.ok(!target.ok, `${url} should be refused`);
      assert.equal(target.error.code, RouterErrorCode.BadPath, url);
      assert.match(target.error.message, /is ambiguous/);
    }
  });
});
