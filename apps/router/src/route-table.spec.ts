import type { Endpoint, RouteDestinationEntry, RouteEntry } from '@paas/contracts';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RouteTable, type Route, type RouteLookup } from './route-table';

const HOST = 'app.apps.localhost';

function endpoint(appId: string, index: number, expiresAt = 1_000_000, processType = 'web'): Endpoint {
  return { instanceId: `${appId}-${index}`, appId, processType, index, address: `10.0.0.1:${6000 + index}`, cellId: 'cell-1', expiresAt };
}

function destination(appId: string, weight?: number, processType = 'web'): RouteDestinationEntry {
  return { id: `dest-${appId}-${processType}`, appId, processType, port: 8080, ...(weight === undefined ? {} : { weight }) };
}

function route(path: string, destinations: RouteDestinationEntry[], host = HOST): RouteEntry {
  return { routeId: `route-${host}${path}`, host, path, destinations };
}

/** The route a lookup found, failing the test when it found none that is live. */
function live(result: RouteLookup): Route {
  assert.equal(result.kind, 'live', `expected a live route, got ${result.kind}`);
  return (result as { route: Route }).route;
}

/** `n` committed picks on the route of `path`, as app ids (or instance ids with `by: 'instance'`). */
function picks(table: RouteTable, n: number, path = '/', by: 'app' | 'instance' = 'app'): string[] {
  const r = live(table.lookup(HOST, path));
  return Array.from({ length: n }, () => {
    const e = table.pick(r);
    return (by === 'app' ? e?.appId : e?.instanceId) ?? 'none';
  });
}

const count = (xs: string[]) => xs.reduce<Record<string, number>>((acc, x) => ({ ...acc, [x]: (acc[x] ?? 0) + 1 }), {});

describe('RouteTable lookup', () => {
  it('tells an unknown host from a route without destinations and from one without live endpoints', () => {
    const table = new RouteTable(() => 1_000);
    assert.deepEqual(table.lookup('nope.apps.localhost', '/'), { kind: 'unknown' });

    table.replaceHost(HOST, [route('', []), route('/api', [destination('api')])]);
    const unbound = table.lookup(HOST, '/');
    assert.equal(unbound.kind, 'no-destination');
    assert.equal((unbound as { route: Route }).route.path, '');
    assert.equal(table.lookup(HOST, '/api/users').kind, 'no-live-endpoint');

    table.replaceEndpoints('api', 'web', [endpoint('api', 0)]);
    assert.equal(table.lookup(HOST, '/api/users').kind, 'live');

    table.replaceHost(HOST, []);
    assert.deepEqual(table.lookup(HOST, '/api'), { kind: 'unknown' });
    assert.equal(table.size, 0);
  });

  it('counts the live instances of a route over its destinations (the per-app bound scales with them), leaving out expired ones', () => {
    const table = new RouteTable(() => 1_000);
    table.replaceHost(HOST, [route('', [destination('blue', 3), destination('green', 1)])]);
    table.replaceEndpoints('blue', 'web', [endpoint('blue', 0), endpoint('blue', 1), endpoint('blue', 2, 500)]);
    table.replaceEndpoints('green', 'web', [endpoint('green', 0)]);
    const found = table.lookup(HOST, '/');
    assert.equal(found.kind, 'live');
    assert.equal((found as { instances: number }).instances, 3, 'blue-0, blue-1 and green-0; blue-2 expired');
  });

  it('matches paths on whole segments, longest prefix first', () => {
    const table = new RouteTable(() => 0);
    table.replaceHost(HOST, [route('', [destination('root')]), route('/api', [destination('api')]), route('/api/v2', [destination('v2')])]);
    for (const app of ['root', 'api', 'v2']) table.replaceEndpoints(app, 'web', [endpoint(app, 0)]);
    const appOf = (path: string) => {
      const r = live(table.lookup(HOST, path));
      return r.destinations[0]?.appId;
    };
    assert.equal(appOf('/'), 'root');
    assert.equal(appOf('/apix'), 'root');
    assert.equal(appOf('/api'), 'api');
    assert.equal(appOf('/api/'), 'api');
    assert.equal(appOf('/api/users?x=1'), 'api');
    assert.equal(appOf('/api?q=1'), 'api');
    assert.equal(appOf('/api/v2'), 'v2');
    assert.equal(appOf('/api/v2/things'), 'v2');
    assert.equal(appOf('/api/v20'), 'api');
    assert.equal(appOf('/API'), 'root', 'paths are case-sensitive');
  });

  it('answers no-matching-path when the host has routes but none for the path', () => {
    const table = new RouteTable(() => 0);
    table.replaceHost(HOST, [route('/api', [destination('api')])]);
    table.replaceEndpoints('api', 'web', [endpoint('api', 0)]);
    assert.deepEqual(table.lookup(HOST, '/'), { kind: 'no-matching-path' });
    assert.deepEqual(table.lookup(HOST, '/apix'), { kind: 'no-matching-path' });
    assert.equal(table.lookup(HOST, '/api/x').kind, 'live');
  });

  it('treats "/" and a trailing slash as the same route path', () => {
    const table = new RouteTable(() => 0);
    table.replaceHost(HOST, [route('/', [destination('root')]), route('/api/', [destination('api')])]);
    for (const app of ['root', 'api']) table.replaceEndpoints(app, 'web', [endpoint(app, 0)]);
    assert.equal(live(table.lookup(HOST, '/anything')).path, '');
    assert.equal(live(table.lookup(HOST, '/api/x')).path, '/api');
  });

  it('holds route paths written before the normal form in it; an ambiguous one matches nothing', () => {
    const table = new RouteTable(() => 0);
    table.replaceHost(HOST, [route('', [destination('root')]), route('/%61pi', [destination('api')]), route('/a%2Fb', [destination('odd')])]);
    for (const app of ['root', 'api', 'odd']) table.replaceEndpoints(app, 'web', [endpoint(app, 0)]);
    assert.equal(live(table.lookup(HOST, '/api/x')).path, '/api');
    assert.deepEqual(table.stats().routes, 2, 'the ambiguous path is dropped');
  });

  it('normalises hosts: case, port and trailing dot', () => {
    const table = new RouteTable(() => 0);
    table.replaceHost('MyApp.Apps.Localhost.', [route('', [destination('x')], 'MyApp.Apps.Localhost.')]);
    table.replaceEndpoints('x', 'web', [endpoint('x', 0)]);
    assert.equal(table.lookup('myapp.apps.localhost:8080', '/').kind, 'live');
    assert.equal(table.lookup('MYAPP.APPS.LOCALHOST', '/').kind, 'live');
    assert.equal(live(table.lookup(' myapp.apps.localhost. ', '/')).host, 'myapp.apps.localhost');
    assert.deepEqual(table.hostNames(), ['myapp.apps.localhost']);
    assert.equal(table.size, 1);
  });

  it('hides endpoints once the injected clock passes their expiresAt', () => {
    let now = 1_000;
    const table = new RouteTable(() => now);
    table.replaceHost(HOST, [route('', [destination('a')])]);
    table.replaceEndpoints('a', 'web', [endpoint('a', 0, 2_000), endpoint('a', 1, 5_000)]);
    const r = live(table.lookup(HOST, '/'));
    assert.deepEqual(picks(table, 2, '/', 'instance'), ['a-0', 'a-1']);
    now = 2_000; // expiresAt is exclusive
    assert.deepEqual(picks(table, 3, '/', 'instance'), ['a-1', 'a-1', 'a-1']);
    now = 5_001;
    assert.equal(table.lookup(HOST, '/').kind, 'no-live-endpoint');
    assert.equal(table.pick(r), undefined);
  });
});

describe('RouteTable pick', () => {
  it('round-robins over a destination\'s endpoints in index order, per route', () => {
    const table = new RouteTable(() => 0);
    table.replaceHost(HOST, [route('', [destination('a')]), route('/b', [destination('b')])]);
    // Redis hash order is arbitrary: the table orders endpoints by index.
    table.replaceEndpoints('a', 'web', [endpoint('a', 2), endpoint('a', 0), endpoint('a', 1)]);
    table.replaceEndpoints('b', 'web', [endpoint('b', 0)]);
    assert.deepEqual(picks(table, 6, '/', 'instance'), ['a-0', 'a-1', 'a-2', 'a-0', 'a-1', 'a-2']);
    assert.deepEqual(picks(table, 1, '/b', 'instance'), ['b-0']);
    assert.deepEqual(picks(table, 1, '/', 'instance'), ['a-0']);
  });

  it('splits traffic exactly by weight (3:1 over 400 picks), in a smooth order', () => {
    const table = new RouteTable(() => 0);
    table.replaceHost(HOST, [route('', [destination('a', 3), destination('b', 1)])]);
    table.replaceEndpoints('a', 'web', [endpoint('a', 0), endpoint('a', 1)]);
    table.replaceEndpoints('b', 'web', [endpoint('b', 0)]);
    const first = picks(table, 400);
    assert.deepEqual(count(first), { a: 300, b: 100 });
    assert.deepEqual(first.slice(0, 8), ['a', 'a', 'b', 'a', 'a', 'a', 'b', 'a'], 'smooth: never three b in a row, b spread out');
    // Within the weighted destination, its endpoints still take turns.
    const instances = picks(table, 400, '/', 'instance');
    assert.deepEqual(count(instances), { 'a-0': 150, 'a-1': 150, 'b-0': 100 });
  });

  it('treats a missing weight as 1, also next to weighted destinations', () => {
    const table = new RouteTable(() => 0);
    table.replaceHost(HOST, [route('', [destination('a'), destination('b')]), route('/mixed', [destination('a', 2), destination('b')])]);
    table.replaceEndpoints('a', 'web', [endpoint('a', 0)]);
    table.replaceEndpoints('b', 'web', [endpoint('b', 0)]);
    assert.deepEqual(count(picks(table, 100)), { a: 50, b: 50 });
    assert.deepEqual(count(picks(table, 300, '/mixed')), { a: 200, b: 100 });
  });

  it('leaves out destinations without a live endpoint', () => {
    let now = 0;
    const table = new RouteTable(() => now);
    table.replaceHost(HOST, [route('', [destination('a', 3), destination('b', 1), destination('gone', 5)])]);
    table.replaceEndpoints('a', 'web', [endpoint('a', 0, 1_000)]);
    table.replaceEndpoints('b', 'web', [endpoint('b', 0, 2_000)]);
    assert.deepEqual(count(picks(table, 400)), { a: 300, b: 100 });
    now = 1_000; // a expires
    assert.deepEqual(count(picks(table, 10)), { b: 10 });
    now = 2_000;
    assert.equal(table.lookup(HOST, '/').kind, 'no-live-endpoint');
  });

  it('sees endpoint sets by app and process type, shared by routes and replaced as a whole', () => {
    const table = new RouteTable(() => 0);
    table.replaceHost(HOST, [route('', [destination('a', undefined, 'web')]), route('/worker', [destination('a', undefined, 'worker')])]);
    table.replaceEndpoints('a', 'web', [endpoint('a', 0)]);
    assert.equal(table.lookup(HOST, '/worker').kind, 'no-live-endpoint');
    table.replaceEndpoints('a', 'worker', [endpoint('a', 5, 1_000_000, 'worker')]);
    assert.deepEqual(picks(table, 1, '/worker', 'instance'), ['a-5']);
    table.replaceEndpoints('a', 'web', []);
    assert.equal(table.lookup(HOST, '/').kind, 'no-live-endpoint');
    assert.deepEqual(table.endpointSetKeys(), ['a/worker']);
    table.removeEndpointSet('a/worker');
    assert.equal(table.lookup(HOST, '/worker').kind, 'no-live-endpoint');
  });

  it('skips excluded instances (those a retry already tried), across destinations', () => {
    const table = new RouteTable(() => 0);
    table.replaceHost(HOST, [route('', [destination('a'), destination('b')])]);
    table.replaceEndpoints('a', 'web', [endpoint('a', 0)]);
    table.replaceEndpoints('b', 'web', [endpoint('b', 0)]);
    const r = live(table.lookup(HOST, '/'));
    for (let i = 0; i < 4; i++) assert.equal(table.pick(r, new Set(['a-0']))?.instanceId, 'b-0');
    assert.equal(table.pick(r, new Set(['a-0', 'b-0'])), undefined);
  });

  it('does not move weights or cursors on retries', () => {
    const table = new RouteTable(() => 0);
    table.replaceHost(HOST, [route('', [destination('a', 3), destination('b', 1)])]);
    table.replaceEndpoints('a', 'web', [endpoint('a', 0), endpoint('a', 1), endpoint('a', 2)]);
    table.replaceEndpoints('b', 'web', [endpoint('b', 0)]);
    const r = live(table.lookup(HOST, '/'));
    const sequence: string[] = [];
    for (let i = 0; i < 40; i++) {
      const e = table.pick(r)!;
      sequence.push(e.instanceId);
      // A retry in between, skipping what was just picked: it changes nothing for the next pick.
      assert.ok(table.pick(r, new Set([e.instanceId])));
    }
    const fresh = new RouteTable(() => 0);
    fresh.replaceHost(HOST, [route('', [destination('a', 3), destination('b', 1)])]);
    fresh.replaceEndpoints('a', 'web', [endpoint('a', 0), endpoint('a', 1), endpoint('a', 2)]);
    fresh.replaceEndpoints('b', 'web', [endpoint('b', 0)]);
    const r2 = live(fresh.lookup(HOST, '/'));
    assert.deepEqual(sequence, Array.from({ length: 40 }, () => fresh.pick(r2)!.instanceId));
  });

  it('keeps the balancing position when a host is reloaded', () => {
    const table = new RouteTable(() => 0);
    const entries = [route('', [destination('a')])];
    table.replaceHost(HOST, entries);
    table.replaceEndpoints('a', 'web', [endpoint('a', 0), endpoint('a', 1)]);
    assert.deepEqual(picks(table, 1, '/', 'instance'), ['a-0']);
    table.replaceHost(HOST, entries);
    table.replaceEndpoints('a', 'web', [endpoint('a', 1), endpoint('a', 0)]);
    assert.deepEqual(picks(table, 1, '/', 'instance'), ['a-1']);
  });

  it('follows a binding change: new destinations take the traffic at once', () => {
    const table = new RouteTable(() => 0);
    table.replaceHost(HOST, [route('', [destination('blue')])]);
    table.replaceEndpoints('blue', 'web', [endpoint('blue', 0)]);
    table.replaceEndpoints('green', 'web', [endpoint('green', 0)]);
    assert.deepEqual(picks(table, 2), ['blue', 'blue']);
    table.replaceHost(HOST, [route('', [destination('blue', 1), destination('green', 1)])]);
    assert.deepEqual(count(picks(table, 10)), { blue: 5, green: 5 });
    table.replaceHost(HOST, [route('', [destination('green')])]);
    assert.deepEqual(picks(table, 3), ['green', 'green', 'green']);
  });

  it('passes over a failed endpoint for the cooldown, unless all are failing', () => {
    let now = 0;
    const table = new RouteTable(() => now, 1_000);
    table.replaceHost(HOST, [route('', [destination('a'), destination('b')])]);
    table.replaceEndpoints('a', 'web', [endpoint('a', 0, 10_000)]);
    table.replaceEndpoints('b', 'web', [endpoint('b', 0, 10_000)]);
    table.markFailed('a-0');
    assert.deepEqual(picks(table, 4, '/', 'instance'), ['b-0', 'b-0', 'b-0', 'b-0']);
    table.markFailed('b-0');
    assert.notEqual(picks(table, 1)[0], 'none', 'all failing: still hands one out');
    now = 1_000;
    assert.deepEqual(count(picks(table, 4)), { a: 2, b: 2 });
  });
});

describe('RouteTable while Redis is out of reach', () => {
  it('keeps endpoints that were live when the silence began, for a grace after it, and no longer', () => {
    let now = 1_000;
    const table = new RouteTable(() => now);
    table.replaceHost(HOST, [route('', [destination('app')])]);
    // Instance 0 expires during the outage; instance 1 had expired before it.
    table.replaceEndpoints('app', 'web', [endpoint('app', 0, 5_000), endpoint('app', 1, 900)]);

    table.beginSilence();
    now = 60_000;
    assert.equal(table.silent, true);
    assert.deepEqual(picks(table, 3, '/', 'instance'), ['app-0', 'app-0', 'app-0'], 'no refresh can come: no expiry by time');

    table.endSilence(10_000);
    now = 69_000;
    assert.deepEqual(picks(table, 2, '/', 'instance'), ['app-0', 'app-0'], 'its cell has the grace to refresh it');
    now = 70_001;
    assert.equal(table.lookup(HOST, '/').kind, 'no-live-endpoint', 'not refreshed within the grace: expired');
  });

  it('without a silence, expiry is by time alone', () => {
    let now = 1_000;
    const table = new RouteTable(() => now);
    table.replaceHost(HOST, [route('', [destination('app')])]);
    table.replaceEndpoints('app', 'web', [endpoint('app', 0, 5_000)]);
    table.endSilence(10_000);
    now = 5_001;
    assert.equal(table.lookup(HOST, '/').kind, 'no-live-endpoint');
  });
});
