import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { chmod, chown, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { ContainerHandle, ContainerSpec } from './container-runtime';
import { hostVcapUser, type IdMapping } from './id-mapping';
import { createTestRuntime, getWhenUp, type TestRuntime } from './integration-test-support';
import type { RuncRuntime, RuncRuntimeConfig } from './runc-runtime';
import { VCAP_UID } from './stack';

const execFileAsync = promisify(execFile);

/**
 * What a hostile tenant tries from inside, as its app's user: the calls the seccomp profile
 * denies (each one printed with its errno), and a few it allows (so a broken profile that denies
 * everything does not pass). Numbers are the x86-64 and arm64 syscall numbers of calls libc has
 * no wrapper for.
 */
const SYSCALLS_PY = String.raw`
import ctypes, errno, json, os, socket, time
libc = ctypes.CDLL(None, use_errno=True)
NR = {
  'x86_64': dict(keyctl=250, add_key=248, bpf=321, perf_event_open=298, io_uring_setup=425, userfaultfd=323, clone=56, process_vm_readv=310, fanotify_init=300),
  'aarch64': dict(keyctl=219, add_key=217, bpf=280, perf_event_open=241, io_uring_setup=425, userfaultfd=282, clone=220, process_vm_readv=270, fanotify_init=262),
}[os.uname().machine]
libc.syscall.restype = ctypes.c_long
def result(ret):
    if ret >= 0:
        return 'ok'
    return errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
def call(*args):
    ctypes.set_errno(0)
    return result(libc.syscall(*[ctypes.c_long(a) if isinstance(a, int) else a for a in args]))
buf = ctypes.create_string_buffer(256)
out = {}
out['keyctl'] = call(NR['keyctl'], 0, -3, 0)  # KEYCTL_GET_KEYRING_ID of the session keyring
out['add_key'] = call(NR['add_key'], b'user', b'paas-probe', b'v', 1, -3)
out['bpf'] = call(NR['bpf'], 0, buf, 72)  # BPF_MAP_CREATE
out['perf_event_open'] = call(NR['perf_event_open'], buf, 0, -1, -1, 0)
out['io_uring_setup'] = call(NR['io_uring_setup'], 1, buf)
out['userfaultfd'] = call(NR['userfaultfd'], 1)  # UFFD_USER_MODE_ONLY: allowed to anyone without the filter
out['fanotify_init'] = call(NR['fanotify_init'], 0, 0)
ctypes.set_errno(0); out['mount'] = result(libc.mount(b'none', b'/tmp', b'tmpfs', 0, None))
ctypes.set_errno(0); out['unshare_user'] = result(libc.unshare(0x10000000))
ctypes.set_errno(0); out['unshare_mount'] = result(libc.unshare(0x00020000))
# clone(CLONE_NEWUSER | SIGCHLD): a child that got through leaves at once.
ret = libc.syscall(ctypes.c_long(NR['clone']), ctypes.c_long(0x10000000 | 17), ctypes.c_long(0), ctypes.c_long(0), ctypes.c_long(0), ctypes.c_long(0))
if ret == 0:
    os._exit(0)
out['clone_newuser'] = result(ret)
fd = os.open('/proc/1/ns/net', os.O_RDONLY)
ctypes.set_errno(0); out['setns'] = result(libc.setns(fd, 0))
ctypes.set_errno(0); out['personality_read_implies_exec'] = result(libc.personality(0x0400000))
libc.personality.argtypes = [ctypes.c_ulong]
ctypes.set_errno(0); out['personality_query'] = result(libc.personality(0xffffffff))
def sock(family, kind):
    try:
        socket.socket(family, kind).close()
        return 'ok'
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
out['socket_alg'] = sock(38, socket.SOCK_SEQPACKET)
out['socket_vsock'] = sock(40, socket.SOCK_STREAM)
out['socket_inet'] = sock(socket.AF_INET, socket.SOCK_STREAM)
out['socket_unix'] = sock(socket.AF_UNIX, socket.SOCK_STREAM)
# ptrace and memory reads of another process of the same user (its sibling).
child = os.fork()
if child == 0:
    time.sleep(30)
    os._exit(0)
ctypes.set_errno(0); out['ptrace_attach'] = result(libc.ptrace(ctypes.c_long(16), ctypes.c_long(child), None, None))
iov = (ctypes.c_void_p * 2)(ctypes.addressof(buf), 8)
out['process_vm_readv'] = call(NR['process_vm_readv'], child, iov, 1, iov, 1, 0)
os.kill(child, 9); os.waitpid(child, 0)
out['fork'] = 'ok'
print(json.dumps(out))
`;

/**
 * As container root WITH every capability of its user namespace (nsenter from the host into the
 * container's user and mount namespaces: more than a breakout inside the container would get, as
 * the capabilities, the filter and no-new-privileges are gone): what it can do to host files.
 */
const ROOT_PY = String.raw`
import ctypes, errno, json, os
libc = ctypes.CDLL(None, use_errno=True)
def attempt(f):
    try:
        f()
        return 'ok'
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
def write(path):
    with open(path, 'a') as f:
        f.write('owned')
out = {'uid': os.getuid(), 'uidMap': open('/proc/self/uid_map').read().split()}
out['writeHostRootFile'] = attempt(lambda: write('/bind/host-root-file'))
out['readHostRootSecret'] = attempt(lambda: open('/bind/host-root-secret').read())
out['chmodHostRootFile'] = attempt(lambda: os.chmod('/bind/host-root-file', 0o666))
out['chownHostRootFile'] = attempt(lambda: os.chown('/bind/host-root-file', 0, 0))
out['readUid2000File'] = attempt(lambda: open('/bind/uid-2000-file').read())
out['ownerSeenOfHostRootFile'] = os.stat('/bind/host-root-file').st_uid
out['writeUsr'] = attempt(lambda: write('/usr/paas-probe'))
ctypes.set_errno(0)
ret = libc.mount(None, b'/usr', None, 0x20 | 0x1000, None)  # MS_REMOUNT | MS_BIND, without MS_RDONLY
out['remountUsrRw'] = 'ok' if ret == 0 else errno.errorcode.get(ctypes.get_errno())
out['writeUsrAfterRemount'] = attempt(lambda: write('/usr/paas-probe'))
out['writeProcSys'] = attempt(lambda: write('/proc/sys/kernel/hostname'))
print(json.dumps(out))
`;

const NGINX_CONF = `daemon off;
pid /tmp/nginx.pid;
error_log stderr;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path /tmp/nginx-body;
  proxy_temp_path /tmp/nginx-proxy;
  fastcgi_temp_path /tmp/nginx-fastcgi;
  uwsgi_temp_path /tmp/nginx-uwsgi;
  scgi_temp_path /tmp/nginx-scgi;
  server { listen 8080; root /app/www; }
}
`;

const NODE_JS = `require('http').createServer((req, res) => res.end('hello from node')).listen(8080, '0.0.0.0');`;

const suffix = randomBytes(2).toString('hex');
const portBase = 20000 + randomInt(0, 400) * 100;
/** A range of its own, not the default: the mapping is the runtime's config. */
const idMapping: IdMapping = { hostId: 1_500_000 + randomInt(0, 16) * 65_536, size: 65_536 };

/** The host ids of a process from the host's /proc: "Uid: real effective saved fs". */
async function hostIdsOf(pid: number): Promise<{ uids: number[]; gids: number[] }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const ids = (name: string) => /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(status.split(`\n${name}:`)[1] ?? '')!.slice(1).map(Number);
  return { uids: ids('Uid'), gids: ids('Gid') };
}

describe('a hostile container (user namespace, seccomp allow-list, secrets at rest)', () => {
  let fixture: TestRuntime;
  let tmp: string;
  let config: RuncRuntimeConfig;
  let runtime: RuncRuntime;
  let bindDir: string;
  let victim: ContainerHandle;
  const spec = (id: string, overrides: Partial<ContainerSpec> = {}) => fixture.spec(`ph${suffix}-${id}`, overrides);

  async function runToEnd(id: string, command: string[]): Promise<{ exitCode: number; lines: string[] }> {
    const lines: string[] = [];
    const result = await runtime.run(spec(id, { command }), { onLine: (line) => lines.push(line), timeoutMs: 30_000 });
    return { exitCode: result.exitCode, lines };
  }

  const getText = async (hostPort: number) => (await getWhenUp(hostPort, '/', 15_000)).text();

  before(async () => {
    fixture = await createTestRuntime({
      name: `ph${suffix}`,
      portBase,
      appFiles: { 'syscalls.py': SYSCALLS_PY, 'root.py': ROOT_PY, 'nginx.conf': NGINX_CONF, 'server.js': NODE_JS, 'www/index.html': 'hello from a static site\n' },
      defaults: {
        env: { PORT: '8080', SECRET_TOKEN: 's3cr3t-value' },
        pidsLimit: 64,
        labels: { job: JSON.stringify({ env: { SECRET_TOKEN: 's3cr3t-value' } }) },
      },
      configure: (config) => ({ ...config, idMapping }),
    });
    ({ tmp, config, runtime } = fixture);
    // A writable bind as staging has them, holding host files a container must not touch.
    bindDir = join(tmp, 'bind');
    await mkdir(bindDir, { mode: 0o777 });
    await chmod(bindDir, 0o777);
    await writeFile(join(bindDir, 'host-root-file'), 'host\n', { mode: 0o644 });
    await writeFile(join(bindDir, 'host-root-secret'), 'secret\n', { mode: 0o600 });
    await writeFile(join(bindDir, 'uid-2000-file'), 'a host user 2000 (or a pre-userns container) wrote this\n', { mode: 0o600 });
    await chown(join(bindDir, 'uid-2000-file'), 2000, 2000);
    victim = await runtime.start(spec('victim', { binds: [{ source: bindDir, destination: '/bind', readonly: false }] }));
  });

  after(() => fixture.dispose());

  it("runs the app's processes as a host uid inside the cell's mapped range, never 0 or 2000", async () => {
    const { uids, gids } = await hostIdsOf(victim.pid);
    const vcap = hostVcapUser(idMapping);
    assert.deepEqual(uids, [vcap.uid, vcap.uid, vcap.uid, vcap.uid]);
    assert.deepEqual(gids, [vcap.gid, vcap.gid, vcap.gid, vcap.gid]);
    for (const uid of uids) {
      assert.ok(uid >= idMapping.hostId && uid < idMapping.hostId + idMapping.size, `host uid ${uid} in the mapped range`);
      assert.ok(uid !== 0 && uid !== VCAP_UID, `host uid ${uid} is neither root nor the container's own 2000`);
    }
    // The namespace itself: container 0.. maps to the range (read through the host's /proc).
    const uidMap = (await readFile(`/proc/${victim.pid}/uid_map`, 'utf8')).trim().split(/\s+/).map(Number);
    assert.deepEqual(uidMap, [0, idMapping.hostId, idMapping.size]);
  });

  it('container root with all its namespace\'s capabilities cannot write, read, chmod or chown host files it sees through a writable bind, nor write /usr even after a remount', async () => {
    // Not `runc exec`: it joins the user namespace first and then cannot join a network namespace
    // the host made ("nsexec-1: failed to setns into net namespace: Operation not permitted").
    const { stdout } = await execFileAsync(
      'nsenter',
      ['--target', String(victim.pid), '--user', '--mount', '--pid', '--root', '--wd', '--setuid', '0', '--setgid', '0', '/usr/bin/python3', '/app/root.py'],
      { encoding: 'utf8', timeout: 20_000 },
    );
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    assert.equal(report['uid'], 0, 'it is root inside');
    assert.deepEqual(report['uidMap'], ['0', String(idMapping.hostId), String(idMapping.size)]);
    assert.equal(report['writeHostRootFile'], 'EACCES', 'host root owns the file; container root is not host root');
    assert.equal(report['readHostRootSecret'], 'EACCES');
    assert.equal(report['chmodHostRootFile'], 'EPERM');
    assert.equal(report['chownHostRootFile'], 'EPERM');
    assert.equal(report['readUid2000File'], 'EACCES', 'host uid 2000 is not the container user 2000');
    assert.equal(report['ownerSeenOfHostRootFile'], 65534, 'host root shows as nobody inside');
    assert.equal(report['writeUsr'], 'EROFS');
    // runc made the read-only bind inside the namespace, so a root with CAP_SYS_ADMIN there may
    // remount it (what the container's own processes cannot: no capabilities, mount denied by
    // seccomp); /usr still belongs to host root, whom the namespace does not map.
    assert.ok(['ok', 'EPERM'].includes(String(report['remountUsrRw'])), String(report['remountUsrRw']));
    assert.ok(['EACCES', 'EROFS'].includes(String(report['writeUsrAfterRemount'])), String(report['writeUsrAfterRemount']));
    assert.ok(['EROFS', 'EACCES', 'EPERM'].includes(String(report['writeProcSys'])), String(report['writeProcSys']));
    assert.equal(await readFile(join(bindDir, 'host-root-file'), 'utf8'), 'host\n', 'the host file is unchanged');
    assert.equal((await stat(join(bindDir, 'host-root-file'))).mode & 0o777, 0o644);
  });

  it('denies keyctl, bpf, mount, perf_event_open, user namespaces, ptrace of another process and the rest of the deny list; allows what apps need', async () => {
    const { exitCode, lines } = await runToEnd('syscalls', ['/usr/bin/python3', '/app/syscalls.py']);
    assert.equal(exitCode, 0, lines.join('\n'));
    const report = JSON.parse(lines.find((line) => line.startsWith('{')) ?? '{}') as Record<string, string>;
    // Without the filter an unprivileged process gets 'ok' for keyctl, add_key, io_uring_setup,
    // userfaultfd (user mode), unshare/clone of a user namespace, ptrace of its own child,
    // process_vm_readv, personality(READ_IMPLIES_EXEC) and AF_ALG sockets: EPERM is the filter.
    for (const call of [
      'keyctl',
      'add_key',
      'bpf',
      'perf_event_open',
      'io_uring_setup',
      'userfaultfd',
      'fanotify_init',
      'mount',
      'unshare_user',
      'unshare_mount',
      'clone_newuser',
      'setns',
      'personality_read_implies_exec',
      'socket_alg',
      'socket_vsock',
      'ptrace_attach',
      'process_vm_readv',
    ]) {
      assert.equal(report[call], 'EPERM', `${call}: ${report[call]} (${lines.join('\n')})`);
    }
    for (const call of ['personality_query', 'socket_inet', 'socket_unix', 'fork']) assert.equal(report[call], 'ok', `${call} is allowed`);
  });

  it('serves a Node.js, a Python (python3 -m http.server) and an nginx app under the profile', async () => {
    const apps: Array<[string, string[], RegExp]> = [
      ['node', ['/usr/bin/node', '/app/server.js'], /hello from node/],
      ['python', ['/usr/bin/python3', '-m', 'http.server', '8080', '--directory', '/app/www'], /hello from a static site/],
      ['nginx', ['/usr/sbin/nginx', '-p', '/tmp', '-c', '/app/nginx.conf', '-e', 'stderr'], /hello from a static site/],
    ];
    for (const [name, command, expected] of apps) {
      const handle = await runtime.start(spec(name, { command, containerPort: 8080 }));
      try {
        const body = await getText(handle.hostPort!).catch(async (error: unknown) => {
          throw new Error(`${name}: ${String(error)}\n${await readFile(join(tmp, `${name}.log`), 'utf8').catch(() => '')}`);
        });
        assert.match(body, expected, name);
        const status = await readFile(`/proc/${handle.pid}/status`, 'utf8');
        assert.match(status, /^Seccomp:\s+2$/m, `${name} runs under the filter`);
      } finally {
        await runtime.stop(handle.id, 2000);
      }
    }
  });

  it('runs git (init, commit, log) under the profile, as a build does', async () => {
    const script = 'cd /tmp && git init -q repo && cd repo && echo hi > f && git add f && git -c user.name=t -c user.email=t@example.com commit -qm first && git log --format=%s';
    const { exitCode, lines } = await runToEnd('git', ['/bin/sh', '-c', script]);
    assert.equal(exitCode, 0, lines.join('\n'));
    assert.ok(lines.includes('first'), lines.join('\n'));
  });

  it("keeps the env at rest root's alone: config.json, meta.json and runc's state are 0600, their directories not readable by others", async () => {
    const dir = join(config.stateDir, 'containers', victim.id);
    for (const file of [join(dir, 'meta.json'), join(dir, 'bundle', 'config.json')]) {
      const mode = (await stat(file)).mode & 0o777;
      assert.equal(mode.toString(8), '600', file);
      assert.match(await readFile(file, 'utf8'), /s3cr3t-value/, `${file} is a file that holds the env`);
    }
    for (const path of [config.stateDir, join(config.stateDir, 'containers'), dir, join(dir, 'bundle')]) {
      const mode = (await stat(path)).mode & 0o777;
      assert.equal(mode & 0o044, 0, `${path} (${mode.toString(8)}) is not readable by group or others`);
    }
    // runc keeps the whole config (env too) in <root>/<id>/state.json.
    const runcDir = join(config.runcRoot, victim.id);
    assert.equal((await stat(config.runcRoot)).mode & 0o077, 0, `${config.runcRoot} is root's alone`);
    for (const name of await readdir(runcDir)) {
      const path = join(runcDir, name);
      const { mode } = await stat(path);
      if (name === 'state.json') {
        assert.equal(mode & 0o077, 0, `${path} (${(mode & 0o777).toString(8)})`);
      }
    }
  });
});
