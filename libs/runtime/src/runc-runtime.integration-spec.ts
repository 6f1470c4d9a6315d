import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { ContainerHandle, ContainerSpec } from './container-runtime';
import { vethName } from './network';
import { createTestRuntime, getWhenUp, type TestRuntime } from './integration-test-support';
import { cleanupAll } from './cleanup-all';
import { RuncRuntime, type RuncRuntimeConfig } from './runc-runtime';
import { VCAP_GID, VCAP_UID } from './stack';

const execFileAsync = promisify(execFile);
const sh = async (file: string, args: string[]) => (await execFileAsync(file, args, { encoding: 'utf8' })).stdout;

/** The app: an HTTP server that reports what it sees of its container. */
const SERVER_JS = `
const http = require('http'), fs = require('fs'), net = require('net'), os = require('os');
const tryWrite = (p) => { try { fs.writeFileSync(p, 'x'); return 'ok'; } catch (e) { return e.code; } };
const probe = (host, port) => new Promise((resolve) => {
  const socket = net.connect({ host, port, timeout: 1500 });
  socket.once('connect', () => { socket.destroy(); resolve({ connected: true }); });
  socket.once('timeout', () => { socket.destroy(); resolve({ connected: false, error: 'timeout' }); });
  socket.once('error', (e) => resolve({ connected: false, error: e.code }));
});
http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://app');
  let body;
  if (url.pathname === '/info') {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const usr = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\\n').find((l) => l.split(' ')[4] === '/usr');
    body = {
      pid: process.pid, uid: process.getuid(), gid: process.getgid(), hostname: os.hostname(),
      procPids: fs.readdirSync('/proc').filter((n) => /^\\d+$/.test(n)).map(Number),
      usrWrite: tryWrite('/usr/paas-probe'), tmpWrite: tryWrite('/tmp/paas-probe'),
      usrMountOptions: usr ? usr.split(' ')[5] : null,
      capEff: /CapEff:\\s*(\\w+)/.exec(status)[1], noNewPrivs: /NoNewPrivs:\\s*(\\d)/.exec(status)[1],
      seccomp: /Seccomp:\\s*(\\d)/.exec(status)[1],
    };
  } else if (url.pathname === '/probe') {
    body = await probe(url.searchParams.get('host'), Number(url.searchParams.get('port')));
  } else {
    body = { hello: os.hostname() };
  }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}).listen(Number(process.env.PORT), '0.0.0.0');
process.on('SIGTERM', () => process.exit(0));
`;

const OOM_JS = `
const chunks = [];
for (let i = 0; i < 200; i++) { chunks.push(Buffer.alloc(8 * 1024 * 1024, 1)); console.log('allocated', (i + 1) * 8, 'MB'); }
console.log('survived');
`;

const FORK_JS = `
const { spawn } = require('child_process');
let ok = 0, failed = 0; const codes = new Set();
const attempt = () => new Promise((resolve) => {
  let child;
  try { child = spawn('/usr/bin/sleep', ['30'], { stdio: 'ignore' }); } catch (e) { failed++; codes.add(e.code); return resolve(); }
  child.once('spawn', () => { ok++; resolve(); });
  child.once('error', (e) => { failed++; codes.add(e.code); resolve(); });
});
(async () => {
  for (let i = 0; i < 40; i++) await attempt();
  const max = require('fs').readFileSync('/sys/fs/cgroup/pids/pids.max', 'utf8').trim();
  console.log(JSON.stringify({ ok, failed, codes: [...codes], max }));
  process.exit(0);
})();
`;

const suffix = randomBytes(2).toString('hex');
const portBase = 20000 + randomInt(0, 400) * 100;

describe('RuncRuntime (real runc, as root)', () => {
  let fixture: TestRuntime;
  let tmp: string;
  let config: RuncRuntimeConfig;
  let runtime: RuncRuntime;
  let web: ContainerHandle;
  const webId = `pt${suffix}-web`;
  const spec = (id: string, overrides: Partial<ContainerSpec> = {}) => fixture.spec(id, overrides);
  const getJson = async (hostPort: number, path: string, deadlineMs?: number) =>
    (await (await getWhenUp(hostPort, path, deadlineMs)).json()) as Record<string, unknown>;

  before(async () => {
    fixture = await createTestRuntime({
      name: `pt${suffix}`,
      portBase,
      appFiles: { 'server.js': SERVER_JS, 'oom.js': OOM_JS, 'fork.js': FORK_JS },
      defaults: { command: ['/usr/bin/node', '/app/server.js'], env: { PORT: '8080' }, memoryMb: 256, pidsLimit: 64, containerPort: 8080, labels: { test: 'yes' } },
    });
    ({ tmp, config, runtime } = fixture);
  });

  after(() => fixture.dispose());

  it('(a) serves HTTP from the container on its host port via 127.0.0.1', async () => {
    web = await runtime.start(spec(webId));
    assert.ok(web.hostPort! >= portBase && web.hostPort! <= portBase + 49, `host port ${web.hostPort} in range`);
    assert.ok(web.pid > 0);
    assert.match(web.ip, /^10\.\d+\.\d+\.\d+$/);
    const body = await getJson(web.hostPort!, '/');
    assert.deepEqual(body, { hello: webId });
    const status = await runtime.inspect(webId);
    assert.equal(status?.state, 'running');
    assert.equal(status?.oomKilled, false);
  });

  it('(b) the pid namespace hides host processes', async () => {
    const info = await getJson(web.hostPort!, '/info');
    assert.equal(info['pid'], 1);
    assert.deepEqual(info['procPids'], [1], 'the container sees only its own process');
    assert.notEqual(web.pid, 1, 'on the host the app has a host pid');
  });

  it('(c) runs as uid 2000 without capabilities; /usr is read-only, /tmp writable', async () => {
    const info = await getJson(web.hostPort!, '/info');
    assert.equal(info['uid'], VCAP_UID);
    assert.equal(info['gid'], VCAP_GID);
    assert.equal(info['capEff'], '0000000000000000');
    assert.equal(info['noNewPrivs'], '1');
    assert.equal(info['seccomp'], '2', 'a seccomp filter is installed');
    assert.equal(info['usrWrite'], 'EROFS');
    assert.match(String(info['usrMountOptions']), /(^|,)ro(,|$)/);
    assert.equal(info['tmpWrite'], 'ok');
  });

  it('(l) a detached container ends with its own exit status or 128 + the signal that killed it; its output reaches its files, which it may reopen', async () => {
    const ended = async (id: string) => {
      for (let poll = 0; poll < 200; poll++) {
        const status = await runtime.inspect(id);
        if (status?.state === 'stopped') return status;
        await sleep(50);
      }
      throw new Error(`${id} still runs after 10 s`);
    };
    const exits = `pt${suffix}-exit3`;
    const errorLogFile = join(tmp, `${exits}.err`);
    await runtime.start(spec(exits, { command: ['/bin/sh', '-c', 'echo started; echo reopened >> /dev/stdout; echo oops >&2; exit 3'], containerPort: undefined, errorLogFile }));
    assert.deepEqual(await ended(exits), { id: exits, state: 'stopped', pid: undefined, oomKilled: false, exitStatus: 3 });
    assert.equal(await readFile(join(tmp, `${exits}.log`), 'utf8'), 'started\nreopened\n');
    assert.equal(await readFile(errorLogFile, 'utf8'), 'oops\n');
    const killed = `pt${suffix}-sig`;
    await runtime.start(spec(killed, { command: ['/usr/bin/sleep', '60'], containerPort: undefined }));
    await sh('runc', ['--root', config.runcRoot, 'kill', killed, 'KILL']); // from the host: an init ignores a SIGKILL from inside
    assert.equal((await ended(killed)).exitStatus, 137);
    for (const id of [exits, killed]) {
      await runtime.destroy(id);
      await assert.rejects(readFile(join(config.stateDir, 'containers', id, 'meta.json')));
    }
  });

  it('(m) wait resolves with the exit as the container ends (its shim), and for a re-adopted container by a slow poll', async () => {
    const quick = `pt${suffix}-wait`;
    await runtime.start(spec(quick, { command: ['/bin/sh', '-c', 'sleep 0.2; exit 5'], containerPort: undefined }));
    const startedAt = Date.now();
    const [status, again] = await Promise.all([runtime.wait(quick), runtime.wait(quick)]);
    // It ends 0.2 s after start; a poll at WAIT_POLL_MS (2 s) would answer at 2 s at the earliest.
    assert.ok(Date.now() - startedAt < 1_500, `noticed ${Date.now() - startedAt} ms after the start`);
    assert.deepEqual(status, { id: quick, state: 'stopped', pid: undefined, oomKilled: false, exitStatus: 5 });
    assert.deepEqual(again, status, 'two waits of one exit answer alike');
    assert.deepEqual(await runtime.wait(quick), status, 'at once once stopped');
    await runtime.destroy(quick);
    assert.equal(await runtime.wait(quick), undefined, 'undefined once destroyed');

    const adopted = `pt${suffix}-adopted`;
    await runtime.start(spec(adopted, { command: ['/usr/bin/sleep', '60'], containerPort: undefined }));
    const restarted = new RuncRuntime(config);
    assert.ok((await restarted.recover()).some((handle) => handle.id === adopted));
    let settled = false;
    const waited = restarted.wait(adopted).finally(() => (settled = true));
    await sleep(300);
    assert.equal(settled, false, 'still running');
    const killedAt = Date.now();
    await sh('runc', ['--root', config.runcRoot, 'kill', adopted, 'KILL']);
    assert.equal((await waited)?.exitStatus, 137);
    assert.ok(Date.now() - killedAt < 5_000, `noticed ${Date.now() - killedAt} ms after the kill`);
    await runtime.destroy(adopted);
  });

  it('(h) containers on the bridge cannot reach each other directly, nor the host (egress default deny)', async () => {
    const gateway = config.network.subnet.replace(/\.0\/24$/, '.1');
    const listener: Server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => listener.listen(0, gateway, resolve));
    try {
      const other = await runtime.start(spec(`pt${suffix}-other`));
      const hostPort = (listener.address() as { port: number }).port;
      const toHost = await getJson(other.hostPort!, `/probe?host=${gateway}&port=${hostPort}`);
      assert.deepEqual(toHost, { connected: false, error: 'ECONNREFUSED' }, 'a container does not reach the host at its gateway');
      const toPeer = await getJson(other.hostPort!, `/probe?host=${web.ip}&port=8080`);
      assert.equal(toPeer['connected'], false, 'a container does not reach another one on the bridge');
      await runtime.stop(other.id, 1000);
    } finally {
      listener.close();
    }
  });

  it('(d) a run beyond its memory limit is OOM-killed and says so', async () => {
    const lines: string[] = [];
    const result = await runtime.run(
      spec(`pt${suffix}-oom`, { command: ['/usr/bin/node', '/app/oom.js'], memoryMb: 64, containerPort: undefined }),
      { onLine: (line) => lines.push(line), timeoutMs: 30_000 },
    );
    assert.equal(result.reason, 'oom');
    assert.notEqual(result.exitCode, 0);
    assert.ok(lines.some((line) => line.startsWith('allocated')), 'output was streamed');
    assert.ok(!lines.includes('survived'));
  });

  it('(d2) a run that exceeds timeoutMs is killed with reason timeout', async () => {
    const started = Date.now();
    const result = await runtime.run(
      spec(`pt${suffix}-slow`, { command: ['/usr/bin/sleep', '60'], containerPort: undefined }),
      { onLine: () => undefined, timeoutMs: 1000 },
    );
    assert.equal(result.reason, 'timeout');
    assert.notEqual(result.exitCode, 0);
    assert.ok(Date.now() - started < 15_000);
  });

  it('(e) the pids limit stops forks past it', async () => {
    const lines: string[] = [];
    const result = await runtime.run(
      spec(`pt${suffix}-fork`, { command: ['/usr/bin/node', '/app/fork.js'], pidsLimit: 24, containerPort: undefined }),
      { onLine: (line) => lines.push(line), timeoutMs: 30_000 },
    );
    assert.equal(result.exitCode, 0, lines.join('\n'));
    const report = JSON.parse(lines.find((line) => line.startsWith('{')) ?? '{}') as {
      ok: number;
      failed: number;
      codes: string[];
      max: string;
    };
    assert.equal(report.max, '24');
    assert.ok(report.ok > 0 && report.ok < 24, `spawned ${report.ok}`);
    assert.ok(report.failed > 0, 'some forks failed');
    assert.deepEqual(report.codes, ['EAGAIN']);
  });

  it('(j) seccomp denies user namespaces (no way back to capabilities)', async () => {
    const lines: string[] = [];
    const result = await runtime.run(
      spec(`pt${suffix}-userns`, { command: ['/usr/bin/unshare', '--user', '--map-root-user', '/usr/bin/id'], containerPort: undefined }),
      { onLine: (line) => lines.push(line), timeoutMs: 10_000 },
    );
    assert.notEqual(result.exitCode, 0, lines.join('\n'));
    assert.ok(lines.some((line) => line.includes('Operation not permitted')), lines.join('\n'));
  });

  it('(g) recover() after an agent restart re-adopts the running container unchanged', async () => {
    const restarted = new RuncRuntime(config);
    const handles = await restarted.recover();
    const again = handles.find((handle) => handle.id === webId);
    assert.ok(again, 'web container recovered');
    assert.equal(again.pid, web.pid, 'not restarted');
    assert.equal(again.hostPort, web.hostPort);
    assert.equal(again.ip, web.ip);
    assert.deepEqual(again.labels, { test: 'yes' });
    assert.deepEqual(await getJson(web.hostPort!, '/'), { hello: webId });
    runtime = restarted;
  });

  it('(f) stop + destroy leave no netns, veth, DNAT rule, mount or runc container behind', async () => {
    await runtime.stop(webId, 2000);
    await runtime.destroy(webId); // idempotent
    await runtime.stop(webId, 10); // on a gone id too
    assert.equal(await runtime.inspect(webId), undefined);
    assert.ok(!(await sh('ip', ['netns', 'list'])).includes(webId));
    assert.ok(!(await sh('ip', ['link'])).includes(vethName(webId)));
    const nat = await sh('iptables', ['-w', '5', '-t', 'nat', '-S']);
    assert.ok(!nat.includes(webId) && !nat.includes(`--dport ${web.hostPort} `), nat);
    assert.ok(!(await readFile('/proc/mounts', 'utf8')).includes(config.stateDir));
    const listed = JSON.parse((await sh('runc', ['--root', config.runcRoot, 'list', '--format', 'json'])) || 'null') as
      | Array<{ id: string }>
      | null;
    assert.deepEqual(listed ?? [], []);
    await assert.rejects(readFile(join(config.stateDir, 'containers', webId, 'meta.json')));
  });

  it('(k) a failed start names the failing command and frees its reservation', async () => {
    const id = `pt${suffix}-broken`;
    await assert.rejects(runtime.start(spec(id, { layers: [join(tmp, 'no-such-layer')] })), /mount .*failed/);
    await assert.rejects(readFile(join(config.stateDir, 'containers', id, 'meta.json')));
    assert.ok(!(await sh('ip', ['netns', 'list'])).includes(id));
  });

  it('(i) cleanupAll removes the chains and the bridge, and is idempotent', async () => {
    await runtime.start(spec(`pt${suffix}-last`));
    await cleanupAll(config);
    await cleanupAll(config);
    const nat = await sh('iptables', ['-w', '5', '-t', 'nat', '-S']);
    const filter = await sh('iptables', ['-w', '5', '-S']);
    assert.ok(!nat.includes(config.iptablesChain) && !filter.includes(config.iptablesChain), nat + filter);
    assert.ok(!(await sh('ip', ['link'])).includes(config.network.bridge));
    assert.ok(!(await sh('ip', ['netns', 'list'])).includes(config.prefix));
  });
});
