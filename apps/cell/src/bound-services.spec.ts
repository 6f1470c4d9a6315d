import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BoundService } from '@paas/contracts';
import { appEnvironment, type AppEnvInput } from './app-env';
import { servicesSeenFromContainers, vcapServices } from './bound-services';
import { EgressPolicy } from './egress-policy';

const postgres = (name: string, host: string, port: number): BoundService => ({
  label: 'postgresql',
  name,
  plan: 'small',
  tags: ['postgresql', 'relational', 'sql'],
  instanceId: `inst-${name}`,
  bindingId: `bind-${name}`,
  urlVariable: 'DATABASE_URL',
  credentials: { host, port, username: 'u1', password: 'p1', database: 'd1', uri: `postgres://u1:p1@${host}:${port}/d1` },
  endpoint: { host, port },
});
const redis: BoundService = {
  label: 'redis',
  name: 'cache',
  plan: 'small',
  tags: ['redis', 'key-value'],
  instanceId: 'inst-cache',
  bindingId: 'bind-cache',
  urlVariable: 'REDIS_URL',
  credentials: { host: '10.0.5.7', port: 47010, username: 'r1', password: 'rp', uri: 'redis://r1:rp@10.0.5.7:47010' },
  endpoint: { host: '10.0.5.7', port: 47010 },
};

const app: AppEnvInput = {
  appId: 'a1',
  appName: 'shop',
  spaceId: 's1',
  spaceName: 'prod',
  orgName: 'acme',
  uris: [],
  index: 0,
  instanceId: 'i1',
  memoryMb: 256,
  diskMb: 1024,
  processType: 'web',
  env: {},
  port: 8080,
};

describe('bound services in an app container', () => {
  it('VCAP_SERVICES has Cloud Foundry\'s exact shape, grouped by label in the given order', () => {
    const services = [postgres('db', '10.0.5.7', 47000), postgres('db2', '10.0.5.7', 47001), redis];
    const env = appEnvironment({ ...app, services });
    const vcap = JSON.parse(env.VCAP_SERVICES!);
    assert.deepEqual(Object.keys(vcap), ['postgresql', 'redis']);
    assert.deepEqual(vcap.postgresql.map((b: { name: string }) => b.name), ['db', 'db2']);
    assert.deepEqual(vcap.redis[0], {
      label: 'redis',
      name: 'cache',
      instance_name: 'cache',
      binding_name: null,
      instance_guid: 'inst-cache',
      binding_guid: 'bind-cache',
      plan: 'small',
      tags: ['redis', 'key-value'],
      credentials: { host: '10.0.5.7', port: 47010, username: 'r1', password: 'rp', uri: 'redis://r1:rp@10.0.5.7:47010' },
      syslog_drain_url: null,
      volume_mounts: [],
    });
    assert.equal(appEnvironment(app).VCAP_SERVICES, '{}', 'no bindings: an empty object');
  });

  it('the first binding of each kind sets its URL variable, unless the app sets it itself', () => {
    const services = [postgres('db', '10.0.5.7', 47000), postgres('db2', '10.0.5.8', 47001), redis];
    const env = appEnvironment({ ...app, services });
    assert.equal(env.DATABASE_URL, 'postgres://u1:p1@10.0.5.7:47000/d1');
    assert.equal(env.REDIS_URL, 'redis://r1:rp@10.0.5.7:47010');
    const own = appEnvironment({ ...app, services, env: { DATABASE_URL: 'postgres://elsewhere/x' } });
    assert.equal(own.DATABASE_URL, 'postgres://elsewhere/x');
    assert.equal(own.REDIS_URL, 'redis://r1:rp@10.0.5.7:47010');
    const forged = appEnvironment({ ...app, services, env: { VCAP_SERVICES: '{"forged":[]}' } });
    assert.deepEqual(Object.keys(JSON.parse(forged.VCAP_SERVICES!)), ['postgresql', 'redis'], 'the app cannot replace VCAP_SERVICES');
  });

  it('a loopback host (credentials, uri, endpoint) becomes the bridge gateway; other hosts stay', () => {
    const [local, remote] = servicesSeenFromContainers([postgres('db', '127.0.0.1', 47000), redis], '10.9.8.1');
    assert.equal(local!.credentials.host, '10.9.8.1');
    assert.equal(local!.credentials.uri, 'postgres://u1:p1@10.9.8.1:47000/d1');
    assert.deepEqual(local!.endpoint, { host: '10.9.8.1', port: 47000 });
    assert.equal(local!.credentials.password, 'p1');
    assert.deepEqual(remote, redis);
    const [named] = servicesSeenFromContainers([{ ...redis, credentials: { ...redis.credentials, host: 'localhost', uri: 'redis://r1:rp@localhost:47010' } }], '10.9.8.1');
    assert.equal(named!.credentials.uri, 'redis://r1:rp@10.9.8.1:47010');
    assert.deepEqual(servicesSeenFromContainers(undefined, '10.9.8.1'), []);
    assert.equal(vcapServices([]).postgresql, undefined);
  });

  it('the running egress lists each bound endpoint, as the container reaches it, and nothing without bindings', () => {
    const policy = new EgressPolicy({ gateway: '10.9.8.1' });
    const services = policy.boundServices([postgres('db', '127.0.0.1', 47000), redis, { ...redis, name: 'ups', endpoint: undefined }]);
    assert.deepEqual(policy.running([], services).services, [
      { host: '10.9.8.1', port: 47000 },
      { host: '10.0.5.7', port: 47010 },
    ]);
    assert.equal(policy.running([]).services, undefined);
  });
});
