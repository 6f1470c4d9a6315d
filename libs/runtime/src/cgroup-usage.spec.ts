import assert from 'node:assert/strict';
import { link, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cgroupHasProcesses, locateCgroup, memoryInUse, parseFlatKeyed, readCgroupUsage } from './cgroup-usage';
import { directoryBytes, mountedLayerBytes } from './layer-usage';

const MiB = 1024 * 1024;

/** memory.stat of a v1 cgroup as the kernel writes it (abridged): 30 MiB inactive file cache. */
const V1_MEMORY_STAT = [
  'cache 41943040',
  'rss 62914560',
  'shmem 0',
  'inactive_file 31457280',
  'active_file 10485760',
  'hierarchical_memory_limit 268435456',
  'total_cache 41943040',
  'total_rss 62914560',
  'total_inactive_file 31457280',
  'total_active_file 10485760',
  '',
].join('\n');

const V2_MEMORY_STAT = ['anon 52428800', 'file 20971520', 'shmem 0', 'active_file 4194304', 'inactive_file 16777216', 'slab 1048576', ''].join('\n');

describe('cgroup usage', () => {
  let tmp: string;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'paas-cgroup-usage-'));
  });

  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('memory in use is the usage minus the inactive file cache, never below 0', () => {
    const v1 = parseFlatKeyed(V1_MEMORY_STAT);
    assert.equal(memoryInUse(110 * MiB, v1, 1), 80 * MiB);
    // v1 prefers the hierarchy's total_inactive_file (usage_in_bytes is hierarchical too).
    assert.equal(memoryInUse(110 * MiB, new Map([['inactive_file', 1], ['total_inactive_file', 10 * MiB]]), 1), 100 * MiB);
    assert.equal(memoryInUse(110 * MiB, new Map([['inactive_file', 10 * MiB]]), 1), 100 * MiB);
    assert.equal(memoryInUse(70 * MiB, parseFlatKeyed(V2_MEMORY_STAT), 2), 54 * MiB);
    assert.equal(memoryInUse(1 * MiB, parseFlatKeyed(V2_MEMORY_STAT), 2), 0);
    assert.equal(memoryInUse(5 * MiB, new Map(), 2), 5 * MiB);
  });

  it('reads a v1 cgroup (memory and cpuacct directories) from its files', async () => {
    const memory = join(tmp, 'v1', 'memory', 'paas', 'c1');
    const cpuacct = join(tmp, 'v1', 'cpuacct', 'paas', 'c1');
    await mkdir(memory, { recursive: true });
    await mkdir(cpuacct, { recursive: true });
    await writeFile(join(memory, 'memory.usage_in_bytes'), `${110 * MiB}\n`);
    await writeFile(join(memory, 'memory.stat'), V1_MEMORY_STAT);
    await writeFile(join(memory, 'memory.limit_in_bytes'), `${256 * MiB}\n`);
    await writeFile(join(cpuacct, 'cpuacct.usage'), '2500000000\n');
    assert.deepEqual(await readCgroupUsage({ version: 1, memory, cpuacct }), {
      cpuNanos: 2_500_000_000,
      memoryBytes: 80 * MiB,
      memoryLimitBytes: 256 * MiB,
    });
    // No limit: v1 writes PAGE_COUNTER_MAX.
    await writeFile(join(memory, 'memory.limit_in_bytes'), '9223372036854771712\n');
    assert.equal((await readCgroupUsage({ version: 1, memory, cpuacct })).memoryLimitBytes, undefined);
    // A cgroup that is gone rejects.
    await assert.rejects(readCgroupUsage({ version: 1, memory: join(tmp, 'nope'), cpuacct }), /ENOENT/);
  });

  it('reads a v2 cgroup (one unified directory) from its files', async () => {
    const unified = join(tmp, 'v2', 'paas', 'c1');
    await mkdir(unified, { recursive: true });
    await writeFile(join(unified, 'cpu.stat'), 'usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n');
    await writeFile(join(unified, 'memory.current'), `${70 * MiB}\n`);
    await writeFile(join(unified, 'memory.stat'), V2_MEMORY_STAT);
    await writeFile(join(unified, 'memory.max'), 'max\n');
    assert.deepEqual(await readCgroupUsage({ version: 2, unified }), { cpuNanos: 1_500_000_000, memoryBytes: 54 * MiB, memoryLimitBytes: undefined });
    await writeFile(join(unified, 'memory.max'), `${128 * MiB}\n`);
    assert.equal((await readCgroupUsage({ version: 2, unified })).memoryLimitBytes, 128 * MiB);
  });

  it('tells a cgroup with processes from an empty one', async () => {
    const unified = join(tmp, 'procs');
    await mkdir(unified, { recursive: true });
    await writeFile(join(unified, 'cgroup.procs'), '');
    assert.equal(await cgroupHasProcesses({ version: 2, unified }), false);
    await writeFile(join(unified, 'cgroup.procs'), '4242\n');
    assert.equal(await cgroupHasProcesses({ version: 2, unified }), true);
    assert.equal(await cgroupHasProcesses({ version: 2, unified: join(tmp, 'gone') }), false);
  });

  it("locates the cgroup from runc's state.json, else from the hierarchy the host mounts", async () => {
    const runcRoot = join(tmp, 'runc');
    await mkdir(join(runcRoot, 'c1'), { recursive: true });
    await writeFile(
      join(runcRoot, 'c1', 'state.json'),
      JSON.stringify({ cgroup_paths: { memory: '/sys/fs/cgroup/memory/paas/c1', cpuacct: '/sys/fs/cgroup/cpuacct/paas/c1', cpu: '/x' } }),
    );
    assert.deepEqual(await locateCgroup(runcRoot, 'c1', '/paas/c1'), {
      version: 1,
      memory: '/sys/fs/cgroup/memory/paas/c1',
      cpuacct: '/sys/fs/cgroup/cpuacct/paas/c1',
    });
    // Without a state.json: derived on a fake v1 root with cpu,cpuacct co-mounted...
    const v1Root = join(tmp, 'root-v1');
    await mkdir(join(v1Root, 'cpu,cpuacct'), { recursive: true });
    await mkdir(join(v1Root, 'memory'), { recursive: true });
    assert.deepEqual(await locateCgroup(runcRoot, 'c2', '/paas/c2', v1Root), {
      version: 1,
      memory: join(v1Root, 'memory', 'paas', 'c2'),
      cpuacct: join(v1Root, 'cpu,cpuacct', 'paas', 'c2'),
    });
    // ...and on a fake v2 root.
    const v2Root = join(tmp, 'root-v2');
    await mkdir(v2Root, { recursive: true });
    await writeFile(join(v2Root, 'cgroup.controllers'), 'cpu memory pids\n');
    assert.deepEqual(await locateCgroup(runcRoot, 'c2', '/paas/c2', v2Root), { version: 2, unified: join(v2Root, 'paas', 'c2') });
  });
});

describe('layer usage', () => {
  let tmp: string;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'paas-layer-usage-'));
  });

  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('sums the allocated blocks under a directory, counting hard links once', async () => {
    const upper = join(tmp, 'upper');
    await mkdir(join(upper, 'tmp', 'deep'), { recursive: true });
    await writeFile(join(upper, 'tmp', 'a'), Buffer.alloc(MiB, 1));
    await writeFile(join(upper, 'tmp', 'deep', 'b'), Buffer.alloc(2 * MiB, 1));
    await link(join(upper, 'tmp', 'a'), join(upper, 'tmp', 'a-again'));
    const bytes = await directoryBytes(upper);
    assert.ok(bytes >= 3 * MiB && bytes < 3 * MiB + 256 * 1024, `${bytes} bytes for 3 MiB of files and 3 directories`);
    assert.equal(await directoryBytes(join(tmp, 'missing')), 0);
    assert.ok((await directoryBytes(upper, 2)) < 3 * MiB, 'the walk stops at its entry bound');
  });

  it('reads nothing when no filesystem is mounted at the layer mount point', async () => {
    await mkdir(join(tmp, 'layer'), { recursive: true });
    assert.equal(await mountedLayerBytes(join(tmp, 'layer'), tmp), undefined);
    assert.equal(await mountedLayerBytes(join(tmp, 'no-layer'), tmp), undefined);
  });
});
