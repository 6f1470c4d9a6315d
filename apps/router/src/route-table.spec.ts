import type { RouteEndpoint } from '@paas/contracts';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RouteTable } from './route-table';

function endpoint(instanceId: string, expiresAt: number, host = 'app.apps.localhost'): RouteEndpoint {
  return { host, address: `10.0.0.1:${6000 + instanceId.length}`, instanceId, appId: 'app-1', cellId: 'cell-1', expiresAt };
}

describe('RouteTable', () => {
  it('tells an unknown host from a known host without endpoints', () => {
    const table = new RouteTable(() => 1_000);
    assert.deepEqual(table.lookup('nope.apps.localhost'), { kind: 'unknown' });
    table.replaceHost('empty.apps.localhost', []);
    assert.deepEqual(table.lookup('empty.apps.localhost'), { kind: 'no-live-endpoint' });
    table.removeHost('empty.apps.localhost');
    assert.deepEqual(table.lookup('empty.apps.localhost'), { kind: 'unknown' });
  });

  it('hides endpoints once the injected clock passes their expiresAt', () => {
    let now = 1_000;
    const table = new RouteTable(() => now);
    table.replaceHost('app.apps.localhost', [endpoint('a', 2_000), endpoint('bb', 5_000)]);

    const ids = () => {
      const r = table.lookup('app.apps.localhost');
      return r.kind === 'live' ? r.endpoints.map((e) => e.instanceId) : r.kind;
    };
    assert.deepEqual(ids(), ['a', 'bb']);
    now = 2_000; // expiresAt is exclusive
    assert.deepEqual(ids(), ['bb']);
    assert.equal(table.pick('app.apps.localhost')?.instanceId, 'bb');
    now = 5_001;
    assert.equal(ids(), 'no-live-endpoint');
    assert.equal(table.pick('app.apps.localhost'), undefined);
  });

  it('picks live endpoints round-robin, per host', () => {
    const table = new RouteTable(() => 0);
    table.replaceHost('a.apps.localhost', [endpoint('a1', 10), endpoint('a22', 10), endpoint('a333', 10)]);
    table.replaceHost('b.apps.localhost', [endpoint('b1', 10)]);
    const picks = Array.from({ length: 6 }, () => table.pick('a.apps.localhost')?.instanceId);
    assert.deepEqual(picks, ['a1', 'a22', 'a333', 'a1', 'a22', 'a333']);
    assert.equal(table.pick('b.apps.localhost')?.instanceId, 'b1');
    assert.equal(table.pick('a.apps.localhost')?.instanceId, 'a1');
  });

  it('skips excluded instances (those a retry already tried)', () => {
    const table = new RouteTable(() => 0);
    table.replaceHost('a.apps.localhost', [endpoint('a1', 10), endpoint('a22', 10)]);
    for (let i = 0; i < 4; i++) assert.equal(table.pick('a.apps.localhost', new Set(['a1']))?.instanceId, 'a22');
    assert.equal(table.pick('a.apps.localhost', new Set(['a1', 'a22'])), undefined);
  });

  it('normalises hosts: case, port and trailing dot', () => {
    const table = new RouteTable(() => 0);
    table.replaceHost('MyApp.Apps.Localhost.', [endpoint('x', 10)]);
    assert.equal(table.lookup('myapp.apps.localhost:8080').kind, 'live');
    assert.equal(table.lookup('MYAPP.APPS.LOCALHOST').kind, 'live');
    assert.equal(table.pick(' myapp.apps.localhost. ')?.instanceId, 'x');
    assert.deepEqual(table.hostNames(), ['myapp.apps.localhost']);
    assert.equal(table.size, 1);
  });

  it('keeps the round-robin position when a host is reloaded', () => {
    const table = new RouteTable(() => 0);
    table.replaceHost('a.apps.localhost', [endpoint('a1', 10), endpoint('a22', 10)]);
    assert.equal(table.pick('a.apps.localhost')?.instanceId, 'a1');
    table.replaceHost('a.apps.localhost', [endpoint('a1', 10), endpoint('a22', 10)]);
    assert.equal(table.pick('a.apps.localhost')?.instanceId, 'a22');
  });

  it('passes over a failed endpoint for the cooldown, unless all are failing', () => {
    let now = 0;
    const table = new RouteTable(() => now, 1_000);
    table.replaceHost('a.apps.localhost', [endpoint('a1', 10_000), endpoint('a22', 10_000)]);
    table.markFailed('a.apps.localhost', 'a1');
    for (let i = 0; i < 4; i++) assert.equal(table.pick('a.apps.localhost')?.instanceId, 'a22');
    table.markFailed('a.apps.localhost', 'a22');
    assert.ok(table.pick('a.apps.localhost'), 'all failing: still hands one out');
    now = 1_000;
    const picks = new Set(Array.from({ length: 4 }, () => table.pick('a.apps.localhost')?.instanceId));
    assert.deepEqual([...picks].sort(), ['a1', 'a22']);
  });

  it('does not move the cursor on retries', () => {
    const table = new RouteTable(() => 0);
    table.replaceHost('a.apps.localhost', [endpoint('a1', 10), endpoint('a22', 10), endpoint('a333', 10)]);
    assert.equal(table.pick('a.apps.localhost')?.instanceId, 'a1');
    assert.equal(table.pick('a.apps.localhost', new Set(['a1']))?.instanceId, 'a333');
    assert.equal(table.pick('a.apps.localhost')?.instanceId, 'a22');
  });
});
