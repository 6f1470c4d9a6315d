import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadSeccompProfile, SECCOMP_PROFILE_FILE } from './seccomp';

describe('the seccomp profile', () => {
  const profile = loadSeccompProfile(SECCOMP_PROFILE_FILE, 'x64');
  const allowed = new Set(profile.syscalls.filter((rule) => rule.action === 'SCMP_ACT_ALLOW' && !rule.args).flatMap((rule) => rule.names));

  it('is an allow-list: anything not named fails with EPERM', () => {
    assert.equal(profile.defaultAction, 'SCMP_ACT_ERRNO');
    assert.equal(profile.defaultErrnoRet, 1);
    assert.deepEqual(profile.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  });

  it('allows what apps need and never what the platform denies', () => {
    for (const name of ['read', 'write', 'openat', 'execve', 'epoll_wait', 'futex', 'rseq', 'statx', 'arch_prctl', 'wait4']) {
      assert.ok(allowed.has(name), `${name} allowed`);
    }
    for (const name of ['keyctl', 'add_key', 'bpf', 'mount', 'umount2', 'perf_event_open', 'unshare', 'setns', 'ptrace', 'process_vm_readv',
      'io_uring_setup', 'userfaultfd', 'kexec_load', 'init_module', 'open_by_handle_at', 'name_to_handle_at', 'clock_settime', 'reboot']) {
      assert.ok(!profile.syscalls.some((rule) => rule.action === 'SCMP_ACT_ALLOW' && rule.names.includes(name)), `${name} not allowed`);
    }
  });

  it("keeps Docker's conditions: clone without namespace flags, clone3 ENOSYS, five personas, socket families but AF_ALG and AF_VSOCK", () => {
    const rules = (name: string) => profile.syscalls.filter((rule) => rule.names.includes(name));
    assert.deepEqual(rules('clone').map((rule) => rule.args), [[{ index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }]]);
    assert.deepEqual(rules('clone3').map((rule) => [rule.action, rule.errnoRet]), [['SCMP_ACT_ERRNO', 38]]);
    assert.deepEqual(rules('personality').map((rule) => rule.args?.[0]?.value), [0, 8, 0x20000, 0x20008, 0xffffffff]);
    assert.deepEqual(rules('socket').map((rule) => [rule.args?.[0]?.op, rule.args?.[0]?.value]), [
      ['SCMP_CMP_LT', 38],
      ['SCMP_CMP_EQ', 39],
      ['SCMP_CMP_GT', 40],
    ]);
  });

  it('keeps arch-specific calls to their architecture', () => {
    const arm = loadSeccompProfile(SECCOMP_PROFILE_FILE, 'arm64');
    assert.ok(!arm.syscalls.some((rule) => rule.names.includes('arch_prctl')));
    assert.ok(arm.syscalls.some((rule) => rule.names.includes('set_tls')));
    assert.ok(!profile.syscalls.some((rule) => rule.names.includes('set_tls')));
  });

  it('refuses a profile that allows a denied call, or that is not an allow-list', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'paas-seccomp-'));
    try {
      const shipped = JSON.parse(await readFile(SECCOMP_PROFILE_FILE, 'utf8')) as { syscalls: Array<{ names: string[] }> };
      const file = join(dir, 'profile.json');
      shipped.syscalls[0]!.names.push('keyctl');
      await writeFile(file, JSON.stringify(shipped));
      assert.throws(() => loadSeccompProfile(file, 'x64'), /allows keyctl, which the platform denies/);
      await writeFile(file, JSON.stringify({ ...shipped, syscalls: [], defaultAction: 'SCMP_ACT_ALLOW' }));
      assert.throws(() => loadSeccompProfile(file, 'x64'), /must be SCMP_ACT_ERRNO/);
      await writeFile(file, '{');
      assert.throws(() => loadSeccompProfile(file, 'x64'), /cannot be read as JSON/);
      assert.throws(() => loadSeccompProfile(SECCOMP_PROFILE_FILE, 'riscv64'), /names no architectures for riscv64/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
