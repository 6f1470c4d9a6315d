import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bindingCredentials, bindingUsername, databaseName, isOurUsername, keyUsername, ownerRole, randomPassword } from './credentials';

const ID = '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0';

test('passwords are random [A-Za-z0-9] of the asked length', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const pw = randomPassword();
    assert.match(pw, /^[A-Za-z0-9]{32}$/);
    seen.add(pw);
  }
  assert.equal(seen.size, 50);
  assert.equal(randomPassword(16).length, 16);
});

test('identifiers come from our UUIDs only: anything else is refused before it reaches SQL or an ACL rule', () => {
  assert.equal(bindingUsername(ID), 'b_0f1e2d3c4b5a49688776a5b4c3d2e1f0');
  assert.equal(ownerRole(ID), 'o_0f1e2d3c4b5a49688776a5b4c3d2e1f0');
  assert.equal(databaseName(ID), 'd_0f1e2d3c4b5a49688776a5b4c3d2e1f0');
  assert.ok(isOurUsername(bindingUsername(ID)));
  // A service key's login: hex of its own id, a prefix no binding's has.
  assert.equal(keyUsername(ID), 'k_0f1e2d3c4b5a49688776a5b4c3d2e1f0');
  assert.ok(isOurUsername(keyUsername(ID)));
  assert.throws(() => keyUsername('mykey'), /not a UUID/);
  assert.ok(!isOurUsername('o_0f1e2d3c4b5a49688776a5b4c3d2e1f0'), 'the owner role is no login');
  for (const bad of ['pg1', 'x"; DROP ROLE admin; --', '0F1E2D3C-4B5A-4968-8776-A5B4C3D2E1F0', `${ID}0`]) {
    assert.throws(() => bindingUsername(bad), /not a UUID/);
  }
  assert.ok(!isOurUsername('b_x" LOGIN SUPERUSER'));
});

test('credentials have the Cloud Foundry fields: postgres names its database, redis its login', () => {
  const login = { username: bindingUsername(ID), password: 'Abc123Abc123Abc123' };
  const pg = bindingCredentials('postgresql', ID, { host: '10.0.0.5', port: 61001 }, login);
  assert.deepEqual(pg, {
    uri: `postgres://${login.username}:${login.password}@10.0.0.5:61001/${databaseName(ID)}`,
    host: '10.0.0.5',
    port: 61001,
    username: login.username,
    password: login.password,
    database: databaseName(ID),
    name: databaseName(ID),
  });
  const redis = bindingCredentials('redis', ID, { host: '10.0.0.5', port: 61002 }, login);
  assert.equal(redis.uri, `redis://${login.username}:${login.password}@10.0.0.5:61002`);
  assert.equal(redis.name, login.username);
  assert.equal('database' in redis, false);
});
