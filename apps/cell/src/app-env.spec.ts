import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appEnvironment, type AppEnvInput } from './app-env';

const input: AppEnvInput = {
  appId: 'a1',
  appName: 'shop',
  spaceId: 's1',
  spaceName: 'prod',
  orgName: 'acme',
  uris: ['shop.apps.localhost'],
  index: 0,
  instanceId: 'i1',
  memoryMb: 256,
  diskMb: 1024,
  processType: 'web',
  env: { DATABASE_URL: 'postgres://db', PORT: '1', VCAP_SERVICES: '{"x":1}', CF_INSTANCE_GUID: 'forged' },
  port: 8080,
};

test('an instance sees PORT, the CF variables, VCAP_APPLICATION and its own env, never overridden', () => {
  const env = appEnvironment(input);
  assert.equal(env.PORT, '8080');
  assert.equal(env.CF_INSTANCE_PORT, '8080');
  assert.equal(env.CF_INSTANCE_GUID, 'i1');
  assert.equal(env.INSTANCE_INDEX, '0');
  assert.equal(env.MEMORY_LIMIT, '256m');
  assert.equal(env.VCAP_SERVICES, '{}');
  assert.equal(env.DATABASE_URL, 'postgres://db');
  const vcap = JSON.parse(env.VCAP_APPLICATION);
  assert.equal(vcap.application_name, 'shop');
  assert.equal(vcap.process_type, 'web');
  assert.deepEqual(vcap.limits, { mem: 256, disk: 1024, fds: 16384 });
  assert.equal(vcap.organization_name, 'acme');
});

test('a one-off task has no PORT and says its process type', () => {
  const env = appEnvironment({ ...input, port: undefined, processType: 'release', instanceId: 't1' });
  assert.equal(env.PORT, undefined);
  assert.equal(env.CF_INSTANCE_PORT, undefined);
  assert.equal(JSON.parse(env.VCAP_APPLICATION).process_type, 'release');
  assert.equal(env.CF_INSTANCE_GUID, 't1');
});
