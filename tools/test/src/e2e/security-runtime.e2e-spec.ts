/**
 * Issue 12, the container runtime, as the hostile tenant sees it: an app pushed with git (built
 * by the Node.js buildpack with npm ci) reports, through the router, the user namespace it runs
 * in, its seccomp mode, and what the calls an attacker tries first (keyctl, bpf, mount,
 * perf_event_open, a user namespace, ptrace of another process) return. On the host, its
 * processes are an unprivileged uid of the cell's range and the files holding its env are 0600.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { api, viaRouter } from './test-platform';
import { commitDir, git, startIsolatedPlatform, stopIsolatedPlatform, type TestPlatform } from '@paas/test-platform';
import { pollUntil } from '@paas/local-services';

const run = promisify(execFile);

/** The host uid of container root on the platform's first cell (tools/platform gives cell i 1000000 + i * 65536). */
const CELL_1_HOST_ID = 1_000_000;

const PROBE_PY = String.raw`
import ctypes, errno, json, os, time
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
NR = {'x86_64': dict(keyctl=250, bpf=321, perf_event_open=298), 'aarch64': dict(keyctl=219, bpf=280, perf_event_open=241)}[os.uname().machine]
def result(ret):
    return 'ok' if ret >= 0 else errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
def call(*args):
    ctypes.set_errno(0)
    return result(libc.syscall(*[ctypes.c_long(a) if isinstance(a, int) else a for a in args]))
buf = ctypes.create_string_buffer(256)
out = {}
out['keyctl'] = call(NR['keyctl'], 0, -3, 0)
out['bpf'] = call(NR['bpf'], 0, buf, 72)
out['perf_event_open'] = call(NR['perf_event_open'], buf, 0, -1, -1, 0)
ctypes.set_errno(0); out['mount'] = result(libc.mount(b'none', b'/tmp', b'tmpfs', 0, None))
ctypes.set_errno(0); out['unshare_user'] = result(libc.unshare(0x10000000))
child = os.fork()
if child == 0:
    time.sleep(30)
    os._exit(0)
ctypes.set_errno(0); out['ptrace'] = result(libc.ptrace(ctypes.c_long(16), ctypes.c_long(child), None, None))
os.kill(child, 9); os.waitpid(child, 0)
print(json.dumps(out))
`;

const WEB_JS = `
const http = require('node:http'), fs = require('node:fs'), { execFileSync } = require('node:child_process');
const PROBE = ${JSON.stringify(PROBE_PY)};
http.createServer((req, res) => {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  let denied;
  try { denied = JSON.parse(execFileSync('/usr/bin/python3', ['-c', PROBE], { encoding: 'utf8', timeout: 10000 })); }
  catch (e) { denied = { error: String(e) }; }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({
    uid: process.getuid(),
    uidMap: fs.readFileSync('/proc/self/uid_map', 'utf8').trim().split(/\\s+/).map(Number),
    gidMap: fs.readFileSync('/proc/self/gid_map', 'utf8').trim().split(/\\s+/).map(Number),
    seccomp: /^Seccomp:\\s*(\\d)/m.exec(status)[1],
    home: fs.statSync('/home/vcap').uid,
    denied,
  }));
}).listen(process.env.PORT);
`;

describe('security: the container runtime (user namespaces, seccomp allow-list, secrets at rest)', () => {
  let platform: TestPlatform;
  let work: string;
  const remote = (name: string) => `http://paas:${platform.adminToken}@127.0.0.1:${platform.controllerPort}/git/${name}.git`;
  const cellDir = () => join(platform.dataDir, 'cells', 'cell-1');

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'paas-e2e-sec-runtime-'));
    platform = await startIsolatedPlatform(1);
  });

  after(async () => {
    const leftovers = await stopIsolatedPlatform(platform);
    await rm(work, { recursive: true, force: true });
    assert.deepEqual(leftovers, [], 'stopping the platform leaves nothing behind');
  });

  test('a pushed app runs in its own user namespace under the seccomp allow-list; the denied calls fail; its env is 0600 on the host', async () => {
    assert.equal((await api(platform, 'POST', '/v1/apps', { name: 'prober' })).status, 201);
    assert.ok((await api(platform, 'PATCH', '/v1/apps/prober/env', { var: { PROBER_SECRET: 'do-not-leak-7f3a' } })).status < 300);
    const dir = join(work, 'prober');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'web.js'), WEB_JS);
    await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'prober', version: '1.0.0', private: true, scripts: { start: 'node web.js' } }));
    await writeFile(
      join(dir, 'package-lock.json'),
      JSON.stringify({ name: 'prober', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'prober', version: '1.0.0' } } }),
    );
    await commitDir(dir);
    const push = await git(['push', remote('prober'), 'main'], dir);
    assert.equal(push.code, 0, push.output);
    assert.match(push.output, /npm ci/, 'staging ran npm ci under the profile, in the user namespace');

    const host = `prober.${platform.appsDomain}`;
    const report = await pollUntil('the prober through the router', async () => {
      const r = await viaRouter(platform, host, '/');
      return r.status === 200 ? (JSON.parse(r.text) as Record<string, unknown>) : undefined;
    }, { timeoutMs: 60_000 });
    assert.equal(report['uid'], 2000, 'vcap inside');
    assert.deepEqual(report['uidMap'], [0, CELL_1_HOST_ID, 65_536], 'container ids 0..65535 are host ids 1000000..');
    assert.deepEqual(report['gidMap'], [0, CELL_1_HOST_ID, 65_536]);
    assert.equal(report['seccomp'], '2', 'a seccomp filter is installed');
    assert.equal(report['home'], 2000, "$HOME is vcap's inside");
    assert.deepEqual(report['denied'], {
      keyctl: 'EPERM',
      bpf: 'EPERM',
      perf_event_open: 'EPERM',
      mount: 'EPERM',
      unshare_user: 'EPERM',
      ptrace: 'EPERM',
    });

    // On the host: the app's processes, and the files of its container.
    const { stdout } = await run('runc', ['--root', join(cellDir(), 'runc'), 'list', '--format', 'json']);
    const running = (JSON.parse(stdout || '[]') as Array<{ id: string; pid: number; status: string }>).filter((c) => c.status === 'running');
    assert.equal(running.length, 1, JSON.stringify(running));
    const status = await readFile(`/proc/${running[0]!.pid}/status`, 'utf8');
    const uids = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(status)!.slice(1).map(Number);
    assert.deepEqual(uids, [CELL_1_HOST_ID + 2000, CELL_1_HOST_ID + 2000, CELL_1_HOST_ID + 2000, CELL_1_HOST_ID + 2000], 'never host root, never host uid 2000');
    const containerDir = join(cellDir(), 'containers', 'containers', running[0]!.id);
    for (const file of [join(containerDir, 'meta.json'), join(containerDir, 'bundle', 'config.json')]) {
      assert.match(await readFile(file, 'utf8'), /do-not-leak-7f3a/, `${file} holds the env`);
      assert.equal(((await stat(file)).mode & 0o777).toString(8), '600', file);
    }
    assert.equal((await stat(containerDir)).mode & 0o044, 0, 'the container dir is not listable by others');
    assert.equal((await stat(join(cellDir(), 'runc'))).mode & 0o077, 0, "runc's state dir is root's alone");
  });
});
