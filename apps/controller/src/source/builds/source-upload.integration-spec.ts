/**
 * POST /v1/apps/:app/source (a push without git) against the real controller on a private
 * Postgres and Redis, with the real cell agent on the fake runtime (testing/cell-agent.ts; its
 * `failing` buildpack as apps/cell/src/fake-behaviours.ts says): the package is checked before anything happens, then
 * staged and deployed like a git push, the build output streaming back as text lines.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { create as createTar } from 'tar';
import { startControllerHarness, type ControllerHarness } from '../../testing/controller-harness';
import { startCellAgent, type CellAgentProcess } from '../../testing/cell-agent';
import { createUser, expectStatus, grant } from '../../testing/tenancy-fixtures';

async function tgzOf(files: Record<string, string>): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'paas-upload-src-'));
  try {
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    const chunks: Buffer[] = [];
    for await (const chunk of createTar({ cwd: dir, portable: true, gzip: true }, Object.keys(files))) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('source upload: POST /v1/apps/:app/source', () => {
  let h: ControllerHarness;
  let cell: CellAgentProcess;

  const upload = async (app: string, body: Uint8Array, token: string | null = h.adminToken) => {
    const res = await fetch(`${h.url}/v1/apps/${app}/source`, {
      method: 'POST',
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/gzip' },
      body,
    });
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  };
  const builds = async (app: string) => (await h.call('GET', `/v1/apps/${app}/builds`)).body.resources as Array<{ commit_sha: string; state: string }>;

  before(async () => {
    h = await startControllerHarness();
    cell = await startCellAgent(h, 'fake-up', { operatorBuildpacks: ['failing'] });
    expectStatus(await h.call('POST', '/v1/apps', { name: 'up' }), 201);
  });

  after(async () => {
    await cell?.stop();
    await h?.stop();
  });

  test('a package is staged and deployed like a git push; the output streams back, ending with the result', async () => {
    const body = await tgzOf({ 'server.js': 'require("http")', 'manifest.yml': 'applications:\n- name: up\n  env:\n    FROM: upload\n' });
    const res = await upload('up', body);
    assert.equal(res.status, 200, res.text);
    assert.match(res.type, /^text\/plain/);
    const lines = res.text.trimEnd().split('\n');
    assert.match(lines[0], /^-----> Received 2 files \(0\.0 MB, sha256 [0-9a-f]{12}\)$/);
    // The fake runtime's staging says which buildpack it played (detection skips `failing`).
    assert.ok(lines.includes('-----> nodejs (fake buildpack: the fake runtime runs no build)'), res.text);
    assert.match(res.text, /-----> up v1 is live at /);
    assert.equal(lines.at(-1), 'PAAS-RESULT ok');
    // The manifest came from the uploaded package; the build is named by the package's sha256.
    assert.equal((await h.call('GET', '/v1/apps/up/env')).body.var.FROM, 'upload');
    const [build] = await builds('up');
    assert.equal(build.commit_sha, createHash('sha256').update(body).digest('hex'));
    assert.equal(build.state, 'STAGED');
  });

  test('a failing build answers 200 with its output and PAAS-RESULT failed; the running release stays', async () => {
    const res = await upload('up', await tgzOf({ 'manifest.yml': 'applications:\n- name: up\n  buildpacks: [failing]\n' }));
    assert.equal(res.status, 200);
    assert.match(res.text, /npm ERR! missing script: build/);
    // The real stager's reason: the exit status and the buildpack's last stderr line.
    assert.match(res.text, /build failed \(exit 1\): npm ERR! missing script: build/);
    assert.match(res.text, /push rejected: the running release of up was left as it was/);
    assert.equal(res.text.trimEnd().split('\n').at(-1), 'PAAS-RESULT failed');
    const releases = (await h.call('GET', '/v1/apps/up/releases')).body.resources as Array<{ version: number; current: boolean }>;
    assert.deepEqual(releases.map((r) => [r.version, r.current]), [[1, true]]);
  });

  test('refused before any build, as JSON: no token 401, unknown app 404, viewer 403, unsafe or broken package 422', async () => {
    const good = await tgzOf({ 'server.js': '' });
    const before = (await builds('up')).length;
    const anonymous = await upload('up', good, null);
    assert.equal(anonymous.status, 401);
    const unknown = await upload('nosuchapp', good);
    assert.equal(unknown.status, 404);
    assert.match(JSON.parse(unknown.text).error.message, /no app nosuchapp/);
    const viewer = await createUser(h, 'upload-viewer');
    const space = (await h.call('GET', '/v1/apps/up')).body.space_id as string;
    await grant(h, space, viewer, 'viewer');
    const forbidden = await upload('up', good, viewer.token);
    assert.equal(forbidden.status, 403);
    assert.equal(JSON.parse(forbidden.text).error.code, 'forbidden');
    const notTar = await upload('up', Buffer.from('plain text, not an archive '.repeat(40)));
    assert.equal(notTar.status, 422);
    assert.match(JSON.parse(notTar.text).error.message, /not a readable tar/);
    // A member that climbs out of the app directory (node-tar keeps ".." only with preservePaths).
    const dir = await mkdtemp(join(tmpdir(), 'paas-upload-evil-'));
    try {
      await writeFile(join(dir, 'x.js'), '');
      const chunks: Buffer[] = [];
      for await (const chunk of createTar({ cwd: join(dir, 'nested-does-not-matter', '..'), preservePaths: true }, ['../' + dir.split('/').at(-1) + '/x.js'])) chunks.push(chunk as Buffer);
      const evil = await upload('up', gzipSync(Buffer.concat(chunks)));
      assert.equal(evil.status, 422);
      assert.match(JSON.parse(evil.text).error.message, /cannot be unpacked safely: \.\.\/.*x\.js: an absolute path or a "\.\." segment/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    assert.equal((await builds('up')).length, before, 'no refused upload made a build');
  });
});
