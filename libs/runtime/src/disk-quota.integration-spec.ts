import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { pollUntil } from '@paas/local-services';
import type { ContainerHandle, ContainerSpec } from './container-runtime';
import { createTestRuntime, type TestRuntime } from './integration-test-support';
import { cleanupAll } from './cleanup-all';
import { RuncRuntime, type RuncRuntimeConfig } from './runc-runtime';

const execFileAsync = promisify(execFile);
const sh = async (file: string, args: string[]) => (await execFileAsync(file, args, { encoding: 'utf8' })).stdout;
const MiB = 1024 * 1024;

/** Writes 10 MB, then tries 100 MB, to /tmp; prints what happened as one JSON line and stays up. */
const DISK_JS = `
const fs = require('fs');
const write = (path, mb) => {
  const chunk = Buffer.alloc(1024 * 1024, 7);
  let fd, written = 0;
  try {
    fd = fs.openSync(path, 'w');
    for (let i = 0; i < mb; i++) written += fs.writeSync(fd, chunk);
    fs.fsyncSync(fd);
    return { result: 'ok', written };
  } catch (e) {
    return { result: e.code, message: e.message, written };
  } finally {
    if (fd !== undefined) try { fs.closeSync(fd); } catch {}
  }
};
const small = write('/tmp/small', 10);
const big = write('/tmp/big', 100);
console.log(JSON.stringify({ small, big }));
process.on('SIGTERM', () => process.exit(0));
setInterval(() => {}, 1 << 30);
`;

const suffix = randomBytes(2).toString('hex');
const portBase = 20000 + randomInt(0, 400) * 100;

describe('RuncRuntime disk quota (diskMb, real runc, as root)', () => {
  let fixture: TestRuntime;
  let tmp: string;
  let config: RuncRuntimeConfig;
  let runtime: RuncRuntime;
  let disk: ContainerHandle;
  const diskId = `pq${suffix}-disk`;
  const spec = (id: string, overrides: Partial<ContainerSpec> = {}) => fixture.spec(id, overrides);

  const containerDir = (id: string) => join(config.stateDir, 'containers', id);
  const image = (id: string) => join(containerDir(id), 'layer.img');
  const layer = (id: string) => join(containerDir(id), 'layer');
  const mounts = () => readFile('/proc/mounts', 'utf8');
  /** `losetup -a` lines whose backing file is under this runtime's state dir. */
  const loopsOfState = async () => (await sh('losetup', ['-a'])).split('\n').filter((line) => line.includes(config.stateDir));

  async function waitForJsonLine(file: string, deadlineMs = 30_000): Promise<Record<string, { result: string; written: number }>> {
    const line = await pollUntil(`a JSON line in ${file}`, async () => (await readFile(file, 'utf8').catch(() => '')).split('\n').find((l) => l.startsWith('{')), {
      timeoutMs: deadlineMs,
    }).catch(async (error: Error) => {
      throw new Error(`${error.message}: ${await readFile(file, 'utf8').catch(() => '(missing)')}`);
    });
    return JSON.parse(line) as Record<string, { result: string; written: number }>;
  }

  before(async () => {
    fixture = await createTestRuntime({
      name: `pq${suffix}`,
      portBase,
      appFiles: { 'disk.js': DISK_JS },
      defaults: { command: ['/usr/bin/node', '/app/disk.js'], labels: { test: 'disk' } },
    });
    ({ tmp, config, runtime } = fixture);
  });

  after(() => fixture.dispose());

  it('(1) writing past diskMb fails with ENOSPC inside; the image stays within diskMb on the host', async () => {
    disk = await runtime.start(spec(diskId, { diskMb: 64 }));
    const report = await waitForJsonLine(join(tmp, `${diskId}.log`));
    assert.deepEqual(report['small'], { result: 'ok', written: 10 * MiB });
    assert.equal(report['big']?.result, 'ENOSPC', JSON.stringify(report));
    assert.ok(report['big']!.written > 30 * MiB, `wrote ${report['big']!.written} bytes before ENOSPC`);
    const { blocks, size } = await stat(image(diskId));
    assert.equal(size, 64 * MiB, 'apparent size is diskMb');
    assert.ok(blocks * 512 <= 64 * MiB, `allocated ${blocks * 512} bytes`);
    assert.ok(blocks * 512 > 40 * MiB, 'the writes went into the image');
    // The host sees the writes in the layer's upper dir, the layer on a loop device.
    assert.equal((await stat(join(layer(diskId), 'upper', 'tmp', 'small'))).size, 10 * MiB);
    assert.ok((await mounts()).split('\n').some((line) => line.startsWith('/dev/loop') && line.split(' ')[1] === layer(diskId)));
    assert.equal((await loopsOfState()).length, 1);
    assert.equal((await runtime.inspect(diskId))?.state, 'running');
  });

  it('(3) recover() after an agent restart keeps the layer mounted and the files intact', async () => {
    const restarted = new RuncRuntime(config);
    const handles = await restarted.recover();
    const again = handles.find((handle) => handle.id === diskId);
    assert.ok(again, 'disk container recovered');
    assert.equal(again.pid, disk.pid, 'not restarted');
    assert.ok((await mounts()).includes(` ${layer(diskId)} ext4 `), 'layer still mounted');
    const seenInside = async () =>
      (await sh('nsenter', ['--target', String(disk.pid), '--mount', '--', '/usr/bin/stat', '-c', '%s', '/tmp/small'])).trim();
    assert.equal(await seenInside(), String(10 * MiB));
    runtime = restarted;

    // The layer mount point itself lost (e.g. unmounted by hand): recover mounts the same loop device
    // again rather than attaching a second one to the image (which would corrupt the filesystem).
    await sh('umount', [layer(diskId)]);
    assert.ok(!(await mounts()).includes(` ${layer(diskId)} `));
    const third = new RuncRuntime(config);
    assert.ok((await third.recover()).some((handle) => handle.id === diskId && handle.pid === disk.pid));
    assert.ok((await mounts()).includes(` ${layer(diskId)} ext4 `), 'layer mounted again');
    assert.equal((await loopsOfState()).length, 1, 'still one loop device');
    assert.equal((await stat(join(layer(diskId), 'upper', 'tmp', 'small'))).size, 10 * MiB);
    assert.equal(await seenInside(), String(10 * MiB));
    runtime = third;
  });

  it('(2) stop + destroy leave no loop device, mount or image behind', async () => {
    await runtime.stop(diskId, 2000);
    await runtime.destroy(diskId); // idempotent
    assert.equal(await runtime.inspect(diskId), undefined);
    assert.deepEqual(await loopsOfState(), []);
    assert.ok(!(await mounts()).includes(config.stateDir));
    await assert.rejects(stat(image(diskId)), /ENOENT/);
    await assert.rejects(stat(containerDir(diskId)), /ENOENT/);
    // A start that fails after the layer was mounted (bad lower layer) frees it as well.
    const broken = `pq${suffix}-broken`;
    await assert.rejects(runtime.start(spec(broken, { diskMb: 16, layers: [join(tmp, 'no-such-layer')] })), /mount .*failed/);
    assert.deepEqual(await loopsOfState(), []);
    assert.ok(!(await mounts()).includes(config.stateDir));
    await assert.rejects(stat(containerDir(broken)), /ENOENT/);
  });

  it('(2b) run() with diskMb (staging) hits ENOSPC and frees its layer; without diskMb the same write succeeds', async () => {
    const lines: string[] = [];
    const script = `require('fs').writeFileSync('/tmp/x', Buffer.alloc(${20 * MiB})); console.log('wrote')`;
    const limited = await runtime.run(spec(`pq${suffix}-run`, { command: ['/usr/bin/node', '-e', script], diskMb: 8 }), {
      onLine: (line) => lines.push(line),
      timeoutMs: 20_000,
    });
    assert.notEqual(limited.exitCode, 0, lines.join('\n'));
    assert.ok(lines.some((line) => line.includes('ENOSPC')), lines.join('\n'));
    const unlimited = await runtime.run(spec(`pq${suffix}-run2`, { command: ['/usr/bin/node', '-e', script] }), {
      onLine: (line) => lines.push(line),
      timeoutMs: 20_000,
    });
    assert.equal(unlimited.exitCode, 0, lines.join('\n'));
    assert.deepEqual(await loopsOfState(), []);
    assert.ok(!(await mounts()).includes(config.stateDir));
  });

  it('(5) many containers with diskMb start concurrently, one loop device each', async () => {
    const count = 12;
    const ids = Array.from({ length: count }, (_, i) => `pq${suffix}-many${i}`);
    const handles = await Promise.all(ids.map((id) => runtime.start(spec(id, { command: ['/usr/bin/sleep', '600'], diskMb: 32 }))));
    assert.equal(handles.length, count);
    const devices = (await loopsOfState()).map((line) => line.split(':')[0]);
    assert.equal(new Set(devices).size, count, devices.join(' '));
    await Promise.all(ids.map((id) => runtime.stop(id, 100)));
    assert.deepEqual(await loopsOfState(), []);
  });

  it('(bench) start latency with and without diskMb', async (t) => {
    const rounds = 10;
    const timings: Record<'plain' | 'disk', number[]> = { plain: [], disk: [] };
    for (let round = 0; round < rounds; round++) {
      for (const kind of round % 2 === 0 ? (['plain', 'disk'] as const) : (['disk', 'plain'] as const)) {
        const id = `pq${suffix}-b${kind[0]}${round}`;
        const started = process.hrtime.bigint();
        await runtime.start(spec(id, { command: ['/usr/bin/sleep', '600'], diskMb: kind === 'disk' ? 1024 : undefined }));
        timings[kind].push(Number(process.hrtime.bigint() - started) / 1e6);
        await runtime.stop(id, 100);
      }
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    t.diagnostic(
      `start() median over ${rounds}: without diskMb ${median(timings.plain).toFixed(1)} ms, ` +
        `with diskMb 1024 ${median(timings.disk).toFixed(1)} ms ` +
        `(+${(median(timings.disk) - median(timings.plain)).toFixed(1)} ms)`,
    );
  });

  it('(4) cleanupAll removes running containers\' layers and stray loop devices, and is idempotent', async () => {
    await runtime.start(spec(`pq${suffix}-last`, { diskMb: 64 }));
    // A loop device whose container directory is gone (the image was deleted under it).
    const strayDir = containerDir(`pq${suffix}-gone`);
    await mkdir(strayDir, { recursive: true });
    await writeFile(join(strayDir, 'layer.img'), '');
    await sh('truncate', ['-s', '8M', join(strayDir, 'layer.img')]);
    await sh('losetup', ['--find', join(strayDir, 'layer.img')]);
    await rm(strayDir, { recursive: true });
    assert.equal((await loopsOfState()).length, 2);
    await cleanupAll(config);
    await cleanupAll(config);
    assert.deepEqual(await loopsOfState(), []);
    assert.ok(!(await mounts()).includes(config.stateDir));
    assert.deepEqual(await sh('find', [join(config.stateDir, 'containers'), '-mindepth', '1']).catch(() => ''), '');
  });
});
