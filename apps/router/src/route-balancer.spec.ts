import type { Endpoint } from '@paas/contracts';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EndpointLoad } from './endpoint-load';
import { RouteBalancer, type DestinationCandidates } from './route-balancer';
import { RouteTable } from './route-table';

function endpoint(index: number, appId = 'app'): Endpoint {
  return { instanceId: `${appId}-${index}`, appId, processType: 'web', index, address: `10.0.0.1:${6000 + index}`, cellId: 'cell-1', expiresAt: 1_000_000 };
}

const one = (...endpoints: Endpoint[]): DestinationCandidates[] => [{ id: 'd', weight: 1, endpoints }];

describe('least-connections balancing', () => {
  it('picks the endpoint with the fewest requests in flight', () => {
    const load = new EndpointLoad();
    const balancer = new RouteBalancer();
    const choice = { kind: 'least-connections', load: (id: string) => load.of(id) } as const;
    const eps = [endpoint(0), endpoint(1), endpoint(2)];
    load.acquire('app-0');
    load.acquire('app-0');
    const releaseOne = load.acquire('app-1');
    assert.equal(balancer.pick(one(...eps), true, choice)?.instanceId, 'app-2');
    load.acquire('app-2');
    load.acquire('app-2');
    assert.equal(balancer.pick(one(...eps), true, choice)?.instanceId, 'app-1');
    releaseOne();
    releaseOne(); // idempotent
    assert.equal(load.of('app-1'), 0);
    assert.equal(balancer.pick(one(...eps), true, choice)?.instanceId, 'app-1');
  });

  it('takes turns among equally loaded endpoints', () => {
    const balancer = new RouteBalancer();
    const choice = { kind: 'least-connections', load: () => 0 } as const;
    const eps = [endpoint(0), endpoint(1)];
    const seen = Array.from({ length: 4 }, () => balancer.pick(one(...eps), true, choice)?.instanceId);
    assert.deepEqual(seen, ['app-0', 'app-1', 'app-0', 'app-1']);
  });

  it('is what a RouteTable built for least-connections does', () => {
    const load = new EndpointLoad();
    const table = new RouteTable(() => 0, undefined, { kind: 'least-connections', load: (id) => load.of(id) });
    table.replaceEndpoints('app', 'web', [endpoint(0), endpoint(1)]);
    table.replaceHost('h.apps.localhost', [
      { routeId: 'r', host: 'h.apps.localhost', path: '', destinations: [{ id: 'd', appId: 'app', processType: 'web', port: 8080 }] },
    ]);
    const found = table.lookup('h.apps.localhost', '/');
    assert.equal(found.kind, 'live');
    const route = (found as { route: Parameters<RouteTable['pick']>[0] }).route;
    load.acquire('app-0');
    for (let i = 0; i < 3; i++) assert.equal(table.pick(route)?.instanceId, 'app-1');
    assert.equal(table.liveEndpoint(route, 'app-0')?.instanceId, 'app-0');
    assert.equal(table.liveEndpoint(route, 'gone'), undefined);
    assert.deepEqual(table.stats(), { hosts: 1, routes: 1, endpoints: 2 });
  });
});
