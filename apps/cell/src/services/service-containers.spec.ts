import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StartServiceJob } from '@paas/contracts';
import { initSpec, serverSpec, serviceContainerIds } from './service-containers';
import type { ServiceRecord } from './service-registry';
import { SERVERS } from './service-servers';

const PASSWORD = 'S3cretS3cretS3cretS3cret';
const record = (kind: StartServiceJob['kind']): ServiceRecord => ({
  job: { serviceInstanceId: '0f8e2d4c-1b3a-4c5d-9e7f-a1b2c3d4e5f6', kind, memoryMb: 256, diskMb: 1024, adminUser: 'paas_admin', adminPassword: PASSWORD, spaceId: 'space-1' },
  hostPort: 62010,
  initialized: false,
  createdAt: '2026-12-02T00:00:00.000Z',
});
const input = (kind: StartServiceJob['kind']) => ({ prefix: 'x'.repeat(24), record: record(kind), dataDir: '/var/lib/paas/services/mounts/v', logFiles: { out: '/l/o', err: '/l/e' } });

describe('service containers', () => {
  it('ids fit the runtime\'s 60 characters with the longest prefix and a UUID', () => {
    const ids = serviceContainerIds('x'.repeat(24), '0f8e2d4c-1b3a-4c5d-9e7f-a1b2c3d4e5f6');
    assert.equal(ids.server, `${'x'.repeat(24)}-s0f8e2d4c1b3a4c5d9e7fa1b2c3d4e5f6`);
    assert.ok(ids.server.length <= 60 && ids.init.length <= 60 && ids.init !== ids.server);
  });

  it('the server listens on its container port behind the fixed host port, as vcap, with the volume at /data and no egress', () => {
    for (const [kind, port] of [['postgresql', 5432], ['redis', 6379]] as const) {
      const spec = serverSpec(input(kind));
      assert.deepEqual([spec.containerPort, spec.hostPort, spec.service, spec.user.uid, spec.memoryMb], [port, 62010, true, 2000, 256]);
      assert.deepEqual(spec.binds, [{ source: '/var/lib/paas/services/mounts/v', destination: '/data', readonly: false }]);
      assert.deepEqual(spec.egress, { rules: [] });
      assert.equal(spec.labels?.serviceInstanceId, '0f8e2d4c-1b3a-4c5d-9e7f-a1b2c3d4e5f6');
    }
  });

  it('the admin password is in no env or argv (ps and the runtime\'s records show those), only in the seed files', () => {
    for (const kind of ['postgresql', 'redis'] as const) {
      const specs = [serverSpec(input(kind)), initSpec(input(kind))].filter((s) => s !== undefined);
      for (const spec of specs) assert.ok(!JSON.stringify(spec).includes(PASSWORD), `${kind} ${spec.id}`);
    }
    assert.deepEqual(SERVERS.postgresql.seedFiles(record('postgresql').job), { '.admin-password': `${PASSWORD}\n` });
    const acl = SERVERS.redis.seedFiles(record('redis').job)['users.acl']!;
    assert.match(acl, /^user default off\nuser paas_admin on #[0-9a-f]{64} ~\* &\* \+@all\n$/);
    assert.ok(!acl.includes(PASSWORD), 'redis keeps the hash only');
    assert.equal(initSpec(input('redis')), undefined, 'redis needs no init container');
  });
});
