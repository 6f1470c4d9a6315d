import 'reflect-metadata';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DashboardModule } from './dashboard.module';
import { IMMUTABLE, fileFor, isReservedPath, wantsAppShell } from './static-files';

@Controller()
class FakeApiController {
  @Get('v1/ping')
  ping() {
    return { pong: true };
  }

  @Get('health')
  health() {
    return { status: 'ok' };
  }
}

async function serve(dir: string): Promise<{ app: INestApplication; url: string }> {
  @Module({ imports: [DashboardModule.withOptions({ dir, corsOrigins: ['http://ops.test:5173'] })], controllers: [FakeApiController] })
  class TestModule {}
  const app = await NestFactory.create(TestModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, url: await app.getUrl() };
}

describe('dashboard static files', () => {
  test('reserved API prefixes are never the dashboard', () => {
    for (const path of ['/v1', '/v1/apps', '/git/x.git/info/refs', '/internal/v1/blobs', '/metrics', '/health', '/_router/health']) {
      assert.equal(isReservedPath(path), true, path);
    }
    for (const path of ['/', '/apps', '/apps/v1', '/v1apps', '/metricsx', '/assets/index.js']) assert.equal(isReservedPath(path), false, path);
  });

  test('files stay inside the build directory; dotfiles and NUL are refused', () => {
    assert.equal(fileFor('/srv/d', '/assets/a.js'), '/srv/d/assets/a.js');
    assert.equal(fileFor('/srv/d', '/../etc/passwd'), undefined);
    assert.equal(fileFor('/srv/d', '/assets/../../etc/passwd'), undefined);
    assert.equal(fileFor('/srv/d', '/.env'), undefined);
    assert.equal(fileFor('/srv/d', '/a\0b'), undefined);
    assert.equal(fileFor('/srv/d', '/'), undefined);
  });

  test('only page navigations without a file extension fall back to index.html', () => {
    assert.equal(wantsAppShell('/', undefined), true);
    assert.equal(wantsAppShell('/apps/hello', 'text/html,application/xhtml+xml'), true);
    assert.equal(wantsAppShell('/apps/hello', 'application/json'), false);
    assert.equal(wantsAppShell('/missing.js', 'text/html'), false);
  });
});

describe('dashboard served by the controller', () => {
  let dir: string;
  let server: { app: INestApplication; url: string };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'paas-dashboard-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>paas dashboard</title>');
    await writeFile(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    await writeFile(join(dir, 'favicon.svg'), '<svg/>');
    await writeFile(join(dir, '.secret'), 'no');
    server = await serve(dir);
  });

  after(async () => {
    await server?.app.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('/ is index.html, revalidated on every load, with a CSP', async () => {
    const res = await fetch(`${server.url}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.ok(res.headers.get('etag'), 'an ETag lets the browser revalidate cheaply');
    assert.match(await res.text(), /paas dashboard/);
  });

  test('hashed assets are immutable for a year; other files revalidate', async () => {
    const js = await fetch(`${server.url}/assets/index-abc123.js`);
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('cache-control'), IMMUTABLE);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    const icon = await fetch(`${server.url}/favicon.svg`);
    assert.equal(icon.headers.get('cache-control'), 'no-cache');
    const head = await fetch(`${server.url}/assets/index-abc123.js`, { method: 'HEAD' });
    assert.equal(head.status, 200);
  });

  test('dashboard paths reload into index.html; API clients and missing files get the API 404', async () => {
    const page = await fetch(`${server.url}/apps/hello`, { headers: { accept: 'text/html' } });
    assert.equal(page.status, 200);
    assert.match(await page.text(), /paas dashboard/);
    assert.equal((await fetch(`${server.url}/apps/hello`, { headers: { accept: 'application/json' } })).status, 404);
    assert.equal((await fetch(`${server.url}/assets/gone-123.js`, { headers: { accept: 'text/html' } })).status, 404);
    assert.equal((await fetch(`${server.url}/.secret`)).status, 404);
    assert.equal((await fetch(`${server.url}/%2e%2e/%2e%2e/etc/passwd`, { headers: { accept: 'text/html' } })).status, 200, 'a traversal is only ever the app shell');
  });

  test('the API and health are never shadowed, even for a browser', async () => {
    const ping = await fetch(`${server.url}/v1/ping`, { headers: { accept: 'text/html' } });
    assert.deepEqual(await ping.json(), { pong: true });
    const unknown = await fetch(`${server.url}/v1/nothing`, { headers: { accept: 'text/html' } });
    assert.equal(unknown.status, 404);
    assert.doesNotMatch(await unknown.text(), /paas dashboard/);
    assert.deepEqual(await (await fetch(`${server.url}/health`)).json(), { status: 'ok' });
    assert.equal((await fetch(`${server.url}/metrics`, { headers: { accept: 'text/html' } })).status, 404);
  });

  test('CORS: an allowed origin gets its preflight answered; others get nothing', async () => {
    const pre = await fetch(`${server.url}/v1/ping`, {
      method: 'OPTIONS',
      headers: { origin: 'http://ops.test:5173', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'http://ops.test:5173');
    assert.match(pre.headers.get('access-control-allow-headers') ?? '', /Authorization/);
    const get = await fetch(`${server.url}/v1/ping`, { headers: { origin: 'http://ops.test:5173' } });
    assert.equal(get.headers.get('access-control-allow-origin'), 'http://ops.test:5173');
    const other = await fetch(`${server.url}/v1/ping`, { headers: { origin: 'http://evil.test' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  });

  test('without a build, / says how to build it and the API still answers', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'paas-dashboard-empty-'));
    const bare = await serve(empty);
    try {
      const res = await fetch(`${bare.url}/`);
      assert.equal(res.status, 404);
      assert.match(await res.text(), /dashboard is not built/);
      assert.equal((await fetch(`${bare.url}/v1/ping`)).status, 200);
    } finally {
      await bare.app.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
