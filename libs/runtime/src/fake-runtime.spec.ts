import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ContainerSpec } from './container-runtime';
import { FakeRuntime, type FakeJournalEntry } from './fake-runtime';
import { RuncRuntime } from './runc-runtime';
import { CommandFailedError, RuntimeError, RuntimeErrorCode } from './runtime-error';

const spec = (id: string, extra: Partial<ContainerSpec> = {}): ContainerSpec => ({
  id,
  layers: ['/droplets/d1'],
  command: ['/bin/sh', '-c', 'exec node server.js'],
  cwd: '/home/vcap/app',
  env: {},
  user: { uid: 2000, gid: 2000 },
  memoryMb: 256,
  pidsLimit: 1024,
  containerPort: 8080,
  ...extra,
});

/** A clock the test moves by hand, so crashes need no sleeps. */
function manualClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

const noLines = { onLine: () => undefined, timeoutMs: 1_000 };

describe('FakeRuntime', () => {
  it('hands out distinct addresses and host ports from hostPortBase, and reports the containers running', async () => {
    const runtime = new FakeRuntime({ hostPortBase: 50_000, subnet: '10.7.7.0/24' });
    const a = await runtime.start(spec('c-a', { labels: { job: 'a' } }));
    const b = await runtime.start(spec('c-b'));
    const c = await runtime.start(spec('c-c', { containerPort: undefined }));
    assert.deepEqual([a.ip, b.ip, c.ip], ['10.7.7.2', '10.7.7.3', '10.7.7.4']);
    assert.deepEqual([a.hostPort, b.hostPort, c.hostPort], [50_000, 50_001, undefined]);
    assert.deepEqual(a.labels, { job: 'a' });
    assert.notEqual(a.pid, b.pid);
    assert.deepEqual(await runtime.inspect('c-a'), { id: 'c-a', state: 'running', pid: a.pid, oomKilled: false });
    assert.equal(await runtime.inspect('c-unknown'), undefined);
    assert.equal(runtime.runningCount(), 3);
  });

  it('fails a scripted start as runc would, leaves nothing behind, and lets the id be used again', async () => {
    let fail = true;
    const runtime = new FakeRuntime({ failStartFor: (s) => (fail && s.id === 'c-bad' ? 'exec format error' : undefined) });
    await assert.rejects(runtime.start(spec('c-bad')), (error: unknown) => {
      assert.ok(error instanceof CommandFailedError);
      assert.equal(error.code, RuntimeErrorCode.CommandFailed);
      assert.match(error.message, /runc run --detach c-bad failed .*exec format error/);
      return true;
    });
    assert.equal(await runtime.inspect('c-bad'), undefined);
    assert.equal(runtime.list().length, 0);
    fail = false;
    const again = await runtime.start(spec('c-bad'));
    assert.equal(again.ip, '10.254.0.2', 'the address of the failed start was freed');
  });

  it('crashes a container crashAfterMs after it started, by the injected clock', async () => {
    const clock = manualClock();
    const runtime = new FakeRuntime({ now: clock.now, crashAfterMs: (s) => (s.id === 'c-flaky' ? 5_000 : undefined) });
    await runtime.start(spec('c-flaky'));
    await runtime.start(spec('c-steady'));
    clock.advance(4_999);
    assert.equal((await runtime.inspect('c-flaky'))?.state, 'running');
    clock.advance(1);
    assert.deepEqual(await runtime.inspect('c-flaky'), { id: 'c-flaky', state: 'stopped', oomKilled: false, exitStatus: 1 });
    clock.advance(1_000_000);
    assert.equal((await runtime.inspect('c-steady'))?.state, 'running');
  });

  it('wait: resolves at a scripted exit (checkExits with an injected clock), on kill, and undefined on destroy', async () => {
    const clock = manualClock();
    const runtime = new FakeRuntime({ now: clock.now, crashAfterMs: (s) => (s.id === 'c-crash' ? 5_000 : undefined), exitStatusFor: () => 3 });
    await runtime.start(spec('c-crash'));
    await runtime.start(spec('c-killed'));
    await runtime.start(spec('c-stopped'));
    const settled: string[] = [];
    const crash = runtime.wait('c-crash').then((s) => (settled.push('c-crash'), s));
    const twice = runtime.wait('c-crash');
    const killed = runtime.wait('c-killed').then((s) => (settled.push('c-killed'), s));
    const stopped = runtime.wait('c-stopped').then((s) => (settled.push('c-stopped'), s));
    clock.advance(4_999);
    runtime.checkExits();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(settled, [], 'nothing exited yet');
    clock.advance(1);
    runtime.checkExits();
    assert.deepEqual(await crash, { id: 'c-crash', state: 'stopped', oomKilled: false, exitStatus: 3 });
    assert.deepEqual(await twice, await crash, 'every wait of one exit answers alike');
    runtime.kill('c-killed', { oom: true });
    assert.deepEqual(await killed, { id: 'c-killed', state: 'stopped', oomKilled: true, exitStatus: 137 });
    await runtime.stop('c-stopped', 1_000);
    assert.equal(await stopped, undefined);
    assert.deepEqual(settled, ['c-crash', 'c-killed', 'c-stopped']);
    assert.deepEqual(await runtime.wait('c-crash'), await crash, 'at once once stopped');
    assert.equal(await runtime.wait('c-unknown'), undefined);
  });

  it('wait: with the default clock a scripted exit resolves by itself, at its time', async () => {
    const runtime = new FakeRuntime({ crashAfterMs: () => 30 });
    const started = Date.now(); // before start: the scripted 30 ms count from inside it
    await runtime.start(spec('c-soon'));
    const status = await runtime.wait('c-soon');
    assert.equal(status?.state, 'stopped');
    assert.equal(status?.exitStatus, 1);
    assert.ok(Date.now() - started >= 25, 'not before its time');
  });

  it('serveOn: a running container answers HTTP on its host port until it dies; a taken port fails its start', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const runtime = new FakeRuntime({ serveOn: '127.0.0.1', hostPortBase: taken, hostPortCount: 2 });
      await assert.rejects(runtime.start(spec('c-taken')), /host port .*EADDRINUSE/);
      assert.equal(runtime.list().length, 0);
      const served = await runtime.start(spec('c-served'));
      assert.equal(served.hostPort, taken + 1);
      const res = await fetch(`http://127.0.0.1:${served.hostPort}/anything`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'fake container c-served\n');
      runtime.kill('c-served');
      await assert.rejects(fetch(`http://127.0.0.1:${served.hostPort}/`), 'nothing listens once it died');
      await runtime.destroy('c-served');
    } finally {
      blocker.close();
    }
  });

  it('serveOn: POST /__fake/exit makes the container exit with the status asked, or as OOM-killed', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const base = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const runtime = new FakeRuntime({ serveOn: '127.0.0.1', hostPortBase: base, hostPortCount: 2 });
    const plain = await runtime.start(spec('c-exit'));
    const oom = await runtime.start(spec('c-oom'));
    try {
      assert.equal((await fetch(`http://127.0.0.1:${plain.hostPort}/__fake/exit`)).status, 200, 'a GET is an ordinary request');
      assert.equal((await runtime.inspect('c-exit'))?.state, 'running');
      assert.equal((await fetch(`http://127.0.0.1:${plain.hostPort}/__fake/exit?status=3`, { method: 'POST' })).status, 202);
      assert.deepEqual(await runtime.wait('c-exit'), { id: 'c-exit', state: 'stopped', oomKilled: false, exitStatus: 3 });
      assert.equal((await fetch(`http://127.0.0.1:${oom.hostPort}/__fake/exit?oom=1&status=137`, { method: 'POST' })).status, 202);
      assert.deepEqual(await runtime.wait('c-oom'), { id: 'c-oom', state: 'stopped', oomKilled: true, exitStatus: 137 });
    } finally {
      await runtime.destroy('c-exit');
      await runtime.destroy('c-oom');
    }
  });

  it('reports an OOM kill at once, or at crashAfterMs when both are scripted', async () => {
    const clock = manualClock();
    const runtime = new FakeRuntime({
      now: clock.now,
      oomFor: (s) => s.memoryMb < 64,
      crashAfterMs: (s) => (s.id === 'c-late' ? 100 : undefined),
    });
    await runtime.start(spec('c-now', { memoryMb: 32 }));
    await runtime.start(spec('c-late', { memoryMb: 32 }));
    assert.deepEqual(await runtime.inspect('c-now'), { id: 'c-now', state: 'stopped', oomKilled: true, exitStatus: 137 });
    assert.equal((await runtime.inspect('c-late'))?.state, 'running');
    clock.advance(100);
    assert.deepEqual(await runtime.inspect('c-late'), { id: 'c-late', state: 'stopped', oomKilled: true, exitStatus: 137 });
  });

  it('keeps a stopped container (address and port) until destroy', async () => {
    const runtime = new FakeRuntime({ oomFor: (s) => s.id === 'c-oom' });
    const dead = await runtime.start(spec('c-oom'));
    const next = await runtime.start(spec('c-next'));
    assert.notEqual(next.ip, dead.ip);
    await runtime.destroy('c-oom');
    assert.equal(await runtime.inspect('c-oom'), undefined);
  });

  it('lets stop and destroy be called twice, concurrently and on ids that never existed', async () => {
    const runtime = new FakeRuntime();
    await runtime.start(spec('c-a'));
    await Promise.all([runtime.stop('c-a', 10_000), runtime.stop('c-a', 10_000), runtime.destroy('c-a')]);
    await runtime.stop('c-a', 0);
    await runtime.destroy('c-a');
    await runtime.stop('c-never', 0);
    await runtime.destroy('c-never');
    assert.equal(await runtime.inspect('c-a'), undefined);
    assert.equal(runtime.list().length, 0);
  });

  it('does not hand a just-freed host port out again at once (as the real allocator)', async () => {
    const runtime = new FakeRuntime({ hostPortBase: 40_000, hostPortCount: 3 });
    const a = await runtime.start(spec('c-a'));
    await runtime.stop('c-a', 0);
    const b = await runtime.start(spec('c-b'));
    const c = await runtime.start(spec('c-c'));
    const d = await runtime.start(spec('c-d'));
    assert.deepEqual([a.hostPort, b.hostPort, c.hostPort, d.hostPort], [40_000, 40_001, 40_002, 40_000], 'wraps round to the freed one last');
    await assert.rejects(runtime.start(spec('c-e')), (e: unknown) => e instanceof RuntimeError && e.code === RuntimeErrorCode.NoFreePort);
    assert.equal(await runtime.inspect('c-e'), undefined);
  });

  it('gives a fixed hostPort as asked, PortInUse to a second holder, and never allocates it while held', async () => {
    const runtime = new FakeRuntime({ hostPortBase: 40_000, hostPortCount: 3 });
    const fixed = await runtime.start(spec('c-fixed', { hostPort: 40_000 }));
    const outside = await runtime.start(spec('c-outside', { hostPort: 45_000 }));
    assert.deepEqual([fixed.hostPort, outside.hostPort], [40_000, 45_000]);
    assert.equal((await runtime.start(spec('c-ranged'))).hostPort, 40_001, 'the held port is skipped');
    await assert.rejects(runtime.start(spec('c-twin', { hostPort: 45_000 })), (e: unknown) => e instanceof RuntimeError && e.code === RuntimeErrorCode.PortInUse);
    assert.equal(await runtime.inspect('c-twin'), undefined);
    await runtime.destroy('c-outside');
    assert.equal((await runtime.start(spec('c-again', { hostPort: 45_000 }))).hostPort, 45_000, 'free again once destroyed');
  });

  it('refuses a second start of the same id, also while the first is still starting', async () => {
    const runtime = new FakeRuntime({ startLatencyMs: 20 });
    const first = runtime.start(spec('c-a'));
    await assert.rejects(runtime.start(spec('c-a')), (e: unknown) => e instanceof RuntimeError && e.code === RuntimeErrorCode.AlreadyExists);
    await first;
    await assert.rejects(runtime.start(spec('c-a')), (e: unknown) => e instanceof RuntimeError && e.code === RuntimeErrorCode.AlreadyExists);
  });

  it('gives concurrent starts different addresses and ports', async () => {
    const runtime = new FakeRuntime({ startLatencyMs: 5 });
    const handles = await Promise.all(Array.from({ length: 30 }, (_, i) => runtime.start(spec(`c-${i}`))));
    assert.equal(new Set(handles.map((h) => h.ip)).size, 30);
    assert.equal(new Set(handles.map((h) => h.hostPort)).size, 30);
  });

  it('lets a destroy during startLatencyMs win: start rejects and nothing is left', async () => {
    const runtime = new FakeRuntime({ startLatencyMs: 30 });
    const starting = runtime.start(spec('c-a'));
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.deepEqual(await runtime.inspect('c-a'), { id: 'c-a', state: 'stopped', oomKilled: false }, 'allocated, not yet running');
    await runtime.stop('c-a', 0);
    await assert.rejects(starting, /destroyed while starting/);
    assert.equal(await runtime.inspect('c-a'), undefined);
    assert.equal(runtime.list().length, 0);
  });

  it('lets a restarted agent sharing the runtime re-adopt its running containers; crashed ones are destroyed', async () => {
    const clock = manualClock();
    const runtime = new FakeRuntime({ prefix: 'cell1', now: clock.now, crashAfterMs: (s) => (s.id === 'cell1-crashes' ? 10 : undefined) });
    const kept = await runtime.start(spec('cell1-web-0', { labels: { job: '{"index":0}' } }));
    await runtime.start(spec('cell1-crashes'));
    await runtime.start(spec('cell1-killed'));
    runtime.kill('cell1-killed', { oom: true });
    clock.advance(10);
    assert.deepEqual(await runtime.inspect('cell1-killed'), { id: 'cell1-killed', state: 'stopped', oomKilled: true, exitStatus: 137 });

    const recovered = await runtime.recover(); // the "restarted agent"
    assert.deepEqual(recovered, [kept]);
    assert.equal(await runtime.inspect('cell1-crashes'), undefined);
    assert.equal(await runtime.inspect('cell1-killed'), undefined);
    assert.equal((await runtime.inspect('cell1-web-0'))?.state, 'running', 'recover does not restart anything');
    assert.deepEqual(await runtime.recover(), [kept], 'and may be asked again');
  });

  it('runs a staging container to completion as scripted and leaves nothing behind', async () => {
    const runtime = new FakeRuntime({
      oomFor: (s) => s.id === 'c-oom',
      crashAfterMs: (s) => (s.id === 'c-exit1' ? 0 : undefined),
      failStartFor: (s) => (s.id === 'c-broken' ? 'no such file' : undefined),
    });
    const lines: string[] = [];
    assert.deepEqual(await runtime.run(spec('c-ok'), noLines), { exitCode: 0 });
    assert.deepEqual(await runtime.run(spec('c-oom'), { onLine: (l) => lines.push(l), timeoutMs: 1_000 }), { exitCode: 137, reason: 'oom' });
    assert.deepEqual(await runtime.run(spec('c-exit1'), noLines), { exitCode: 1 });
    await assert.rejects(runtime.run(spec('c-broken'), noLines), CommandFailedError);
    assert.deepEqual(lines, ['Killed']);
    assert.equal(runtime.list().length, 0);
  });

  it('runFor scripts a foreground container: its answer and its lines, else the defaults', async () => {
    const runtime = new FakeRuntime({
      runFor: async (s, options) => {
        if (s.id !== 'c-scripted') return undefined;
        options.onLine('-----> scripted build', 'stdout');
        return { exitCode: 7 };
      },
    });
    const lines: string[] = [];
    assert.deepEqual(await runtime.run(spec('c-scripted'), { onLine: (line) => lines.push(line), timeoutMs: 1_000 }), { exitCode: 7 });
    assert.deepEqual(lines, ['-----> scripted build']);
    assert.deepEqual(await runtime.run(spec('c-default'), noLines), { exitCode: 0 }, 'undefined: the default');
    assert.equal(runtime.list().length, 0, 'nothing left behind');
  });

  it('a foreground container reads running while its script runs; stop ends it with 143, aborts the script and drops its later lines', async () => {
    let aborted = false;
    const lines: string[] = [];
    const runtime = new FakeRuntime({
      runFor: (_s, options, stopped) =>
        new Promise((resolve) => {
          options.onLine('before the stop', 'stdout');
          stopped.addEventListener('abort', () => ((aborted = true), options.onLine('after the stop', 'stdout'), resolve({ exitCode: 0 })), { once: true });
        }),
    });
    const running = runtime.run(spec('c-long'), { onLine: (line) => lines.push(line), timeoutMs: 1_000 });
    await new Promise((resolve) => setImmediate(resolve));
    const status = await runtime.inspect('c-long');
    assert.equal(status?.state, 'running');
    assert.ok(status?.pid);
    await runtime.stop('c-long', 1_000);
    assert.deepEqual(await running, { exitCode: 143 }, "the stop's SIGTERM, not the script's late answer");
    assert.ok(aborted, 'the script was told');
    assert.deepEqual(lines, ['before the stop'], 'nothing printed once stopped');
    assert.equal(await runtime.inspect('c-long'), undefined);
    await runtime.stop('c-long', 1_000);
  });

  it('outputFor: a started container prints its lines into its logFile', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fake-runtime-'));
    try {
      const runtime = new FakeRuntime({ outputFor: (s) => (s.id === 'c-talks' ? ['server starting', 'listening on port 3000'] : []) });
      await runtime.start(spec('c-talks', { logFile: join(dir, 'talks.log') }));
      await runtime.start(spec('c-quiet', { logFile: join(dir, 'quiet.log') }));
      assert.equal(await readFile(join(dir, 'talks.log'), 'utf8'), 'server starting\nlistening on port 3000\n');
      await assert.rejects(readFile(join(dir, 'quiet.log')), { code: 'ENOENT' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('journal: starts, runs, their ends and stops in the order they happened, across runtimes', async () => {
    const journal: string[] = [];
    const record = (name: string) => (entry: FakeJournalEntry) =>
      journal.push(`${name} ${entry.what} ${entry.spec.id}${entry.result ? ` ${entry.result.exitCode}` : ''}`);
    const a = new FakeRuntime({ journal: record('a'), runFor: async () => ({ exitCode: 3 }) });
    const b = new FakeRuntime({ journal: record('b') });
    await a.run(spec('c-task'), noLines);
    await b.start(spec('c-web'));
    await b.destroy('c-web');
    await b.destroy('c-web');
    await a.destroy('c-never');
    assert.deepEqual(journal, ['a run c-task', 'a run-end c-task 3', 'b start c-web', 'b stop c-web']);
  });

  it('refuses exactly the specs RuncRuntime refuses, with the same code and message', async () => {
    const prefix = 'px';
    const fake = new FakeRuntime({ prefix });
    // Validation is RuncRuntime's first step, before it touches the host, so it is safe to call here.
    const runc = new RuncRuntime({
      prefix,
      stateDir: '/nonexistent/state',
      stackDir: '/nonexistent/stack',
      runcRoot: '/nonexistent/runc',
      network: { bridge: 'pxbr0', subnet: '10.250.9.0/24', hostPortRange: [61_000, 61_999] },
      iptablesChain: 'PX',
    });
    const bad: ContainerSpec[] = [
      spec('PX-upper'),
      spec('other-prefix'),
      spec(`px-${'a'.repeat(60)}`),
      spec('px-1', { command: [] }),
      spec('px-2', { cwd: 'relative' }),
      spec('px-3', { user: { uid: 0, gid: 2000 } }),
      spec('px-4', { memoryMb: 4 }),
      spec('px-5', { pidsLimit: 0 }),
      spec('px-6', { containerPort: 70_000 }),
      spec('px-7', { layers: ['droplet'] }),
      spec('px-8', { binds: [{ source: 'src', destination: '/x', readonly: true }] }),
      spec('px-9', { diskMb: 0 }),
      spec('px-10', { diskMb: 1.5 }),
      spec('px-11', { cpuMillicores: 5 }),
      spec('px-12', { cpuMillicores: 0.5 }),
      spec('px-13', { cpuMillicores: 2_000_000 }),
      spec('px-14', { containerPort: undefined, hostPort: 40_000 }),
      spec('px-15', { hostPort: 0 }),
      spec('px-16', { containerPort: undefined, service: true }),
      spec('px-17', { egress: { rules: [], services: [{ host: 'example.com', port: 5432 }] } }),
      spec('px-18', { egress: { rules: [], services: [{ host: '127.0.0.1', port: 5432 }] } }),
      spec('px-19', { egress: { rules: [], services: [{ host: '10.0.0.1', port: 0 }] } }),
    ];
    for (const s of bad) {
      const real = await runc.start(s).then(
        () => assert.fail(`RuncRuntime accepted ${s.id}`),
        (e: unknown) => e,
      );
      assert.ok(real instanceof RuntimeError && real.code === RuntimeErrorCode.InvalidSpec, `RuncRuntime: ${String(real)}`);
      await assert.rejects(fake.start(s), (e: unknown) => e instanceof RuntimeError && e.code === real.code && e.message === real.message);
    }
    assert.equal(fake.list().length, 0);
  });

  it('stats: the scripted usage and the spec limits while running, undefined once stopped', async () => {
    const clock = manualClock();
    const runtime = new FakeRuntime({
      now: clock.now,
      usageFor: (s, runningMs) => ({ cpuNanos: runningMs * 1_000_000, memoryBytes: s.memoryMb * 1024 * 512 }),
    });
    await runtime.start(spec('c-a', { diskMb: 512 }));
    clock.advance(2_000);
    assert.deepEqual(await runtime.stats('c-a'), {
      cpuNanos: 2_000_000_000,
      memoryBytes: 128 * 1024 * 1024,
      memoryLimitBytes: 256 * 1024 * 1024,
      diskBytes: 0,
      diskLimitBytes: 512 * 1024 * 1024,
    });
    runtime.kill('c-a');
    assert.equal(await runtime.stats('c-a'), undefined);
    assert.equal(await runtime.stats('c-unknown'), undefined);
  });

  it('stats: a cpuMillicores quota caps the scripted CPU time, as the kernel would', async () => {
    const clock = manualClock();
    // Spins two cores.
    const runtime = new FakeRuntime({ now: clock.now, usageFor: (_s, runningMs) => ({ cpuNanos: runningMs * 2_000_000 }) });
    await runtime.start(spec('c-half', { cpuMillicores: 500 }));
    await runtime.start(spec('c-free'));
    clock.advance(2_000);
    assert.equal((await runtime.stats('c-half'))?.cpuNanos, 1_000_000_000);
    assert.equal((await runtime.stats('c-free'))?.cpuNanos, 4_000_000_000);
  });
});
