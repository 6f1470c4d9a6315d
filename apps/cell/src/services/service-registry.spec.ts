import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { StartServiceJob } from '@paas/contracts';
import { ServiceRegistry } from './service-registry';

const job = (serviceInstanceId: string): StartServiceJob => ({
  serviceInstanceId,
  kind: 'postgresql',
  memoryMb: 256,
  diskMb: 1024,
  adminUser: 'admin',
  adminPassword: 'A'.repeat(24),
  spaceId: 'space-1',
});

describe('ServiceRegistry', () => {
  let tmp: string;
  before(async () => (tmp = await mkdtemp(join(tmpdir(), 'paas-service-registry-'))));
  after(() => rm(tmp, { recursive: true, force: true }));

  it('gives each instance the lowest free port once, keeps it for the same job, and frees it on remove', async () => {
    const dir = join(tmp, 'ports');
    const registry = new ServiceRegistry(dir, [47000, 47002]);
    const a = await registry.add(job('aaaaaaaa-0001'));
    const b = await registry.add(job('bbbbbbbb-0002'));
    assert.deepEqual([a.hostPort, b.hostPort], [47000, 47001]);
    assert.equal(a.initialized, false);
    // The same job again (queued anew after Redis lost it) changes nothing, even with other values.
    const again = await registry.add({ ...job('aaaaaaaa-0001'), memoryMb: 512 });
    assert.deepEqual(again, a);
    await registry.remove('aaaaaaaa-0001');
    await registry.remove('aaaaaaaa-0001'); // safe to repeat
    const c = await registry.add(job('cccccccc-0003'));
    assert.equal(c.hostPort, 47000, 'a deleted instance\'s port is free again');
    // A new registry on the same dir (the agent restarted) reads the same records.
    const reread = new ServiceRegistry(dir, [47000, 47002]);
    assert.deepEqual((await reread.list()).map((r) => [r.job.serviceInstanceId, r.hostPort]), [
      ['cccccccc-0003', 47000],
      ['bbbbbbbb-0002', 47001],
    ]);
  });

  it('never hands one port out twice to starts at once, and says when the range is used up', async () => {
    const registry = new ServiceRegistry(join(tmp, 'full'), [47100, 47102]);
    const records = await Promise.all(['d1', 'd2', 'd3'].map((n) => registry.add(job(`${n}000000-0000`))));
    assert.deepEqual(records.map((r) => r.hostPort).sort(), [47100, 47101, 47102]);
    await assert.rejects(registry.add(job('e1000000-0000')), /no free service port: all 3 of CELL_SERVICE_PORTS 47100-47102 are taken/);
  });

  it('keeps each record root\'s alone (0600 in a 0700 dir: the admin password), skips files that do not parse', async () => {
    const dir = join(tmp, 'modes');
    const registry = new ServiceRegistry(dir, [47200, 47209]);
    await registry.add(job('f1000000-0000'));
    await registry.markInitialized('f1000000-0000');
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.equal((await stat(join(dir, 'f1000000-0000.json'))).mode & 0o777, 0o600);
    assert.equal((await registry.get('f1000000-0000'))?.initialized, true);
    await writeFile(join(dir, 'f2000000-0000.json'), '{"job": {"kind": "mysql"}}');
    assert.deepEqual((await registry.list()).map((r) => r.job.serviceInstanceId), ['f1000000-0000']);
    assert.deepEqual((await readdir(dir)).filter((n) => n.endsWith('.tmp')), []);
    await assert.rejects(registry.get('../../etc/passwd'), /is not a service instance id/);
  });

  it('records the sizes of an update (kept across a reread; a later start job with the old sizes changes nothing); an unknown id throws', async () => {
    const dir = join(tmp, 'resize');
    const registry = new ServiceRegistry(dir, [47300, 47309]);
    const added = await registry.add(job('a1000000-0000'));
    const resized = await registry.resize('a1000000-0000', { memoryMb: 1024, diskMb: 4096 });
    assert.deepEqual(resized, { ...added, job: { ...added.job, memoryMb: 1024, diskMb: 4096 } });
    assert.deepEqual(await new ServiceRegistry(dir, [47300, 47309]).get('a1000000-0000'), resized);
    assert.deepEqual(await registry.add(job('a1000000-0000')), resized);
    await assert.rejects(registry.resize('b1000000-0000', { memoryMb: 512, diskMb: 1024 }), /service instance b1000000-0000 is not registered/);
  });
});
