import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brokerCatalogSchema, brokerText, fetchCatalog, normalizeBrokerUrl, provision } from './osb-client';
import { credentialsSchema } from '../provided-credentials';

test('broker URLs: http(s) only, no credentials, query or fragment; trailing slashes dropped', () => {
  assert.equal(normalizeBrokerUrl('https://broker.example.com/base//'), 'https://broker.example.com/base');
  assert.throws(() => normalizeBrokerUrl('file:///etc/passwd'), /http:\/\/ or https:\/\//);
  assert.throws(() => normalizeBrokerUrl('http://u:p@broker'), /must not hold credentials/);
  assert.throws(() => normalizeBrokerUrl('http://broker/?x=1'), /query or fragment/);
  assert.throws(() => normalizeBrokerUrl('broker.example.com'), /is not a URL/);
});

test('text a broker wrote loses its control characters and is bounded', () => {
  assert.equal(brokerText('ok\u001b[31mred\nline'), 'ok [31mred line');
  assert.equal(brokerText('x'.repeat(5000)).length, 1000);
  const catalog = brokerCatalogSchema.parse({
    services: [{ id: 's', name: 'db', description: 'a\u0007b', bindable: true, plans: [{ id: 'p', name: 'small', description: 'x' }] }],
  });
  assert.equal(catalog.services[0].description, 'a b');
  assert.equal(catalog.services[0].plans[0].free, true, 'free defaults to true');
  assert.deepEqual(catalog.services[0].tags, []);
  assert.equal(brokerCatalogSchema.safeParse({ services: [{ id: 's', name: 'db', description: '', bindable: true, tags: ['a b'], plans: [{ id: 'p', name: 'small', description: '' }] }] }).success, false);
});

test('credentials: flat string/number values, env-like names, bounded', () => {
  assert.ok(credentialsSchema.safeParse({ uri: 'x', port: 1 }).success);
  assert.match(credentialsSchema.safeParse({ a: true }).error!.issues[0].message, /strings or numbers/);
  assert.match(credentialsSchema.safeParse({ '1a': 'x' }).error!.issues[0].message, /env-like/);
  assert.match(credentialsSchema.safeParse(Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 1]))).error!.issues[0].message, /at most 64/);
});

test('a broker answering too much, a javascript: dashboard or a catalog that is not JSON is refused or cleaned', async () => {
  let answer: { status: number; body: string } = { status: 200, body: '' };
  const server = createServer((_req, res) => res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const broker = { name: 'b', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, username: 'u', password: 'p' };
  try {
    answer = { status: 200, body: JSON.stringify({ services: [], padding: 'x'.repeat(1024 * 1024) }) };
    await assert.rejects(fetchCatalog(broker), /broker b answered fetching the catalog with more than 1024 KB/);
    answer = { status: 200, body: '<html>' };
    await assert.rejects(fetchCatalog(broker), /not JSON/);
    answer = { status: 201, body: JSON.stringify({ dashboard_url: 'javascript:alert(1)' }) };
    const ctx = { instanceId: 'i', instanceName: 'n', serviceId: 's', planId: 'p', orgId: 'o', orgName: 'o', spaceId: 's', spaceName: 's' };
    assert.deepEqual(await provision(broker, ctx), { async: false, dashboardUrl: null });
    answer = { status: 500, body: JSON.stringify({ description: 'boom\u001b[2J' }) };
    await assert.rejects(provision(broker, ctx), /broker b refused provisioning n \(HTTP 500: boom \[2J\)/);
  } finally {
    server.close();
  }
});
