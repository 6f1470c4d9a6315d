import { access, chmod, chown, cp, mkdir, readFile, readlink, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { DEFAULT_ID_MAPPING, hostVcapUser, VCAP_GID, VCAP_UID, type IdMapping } from './id-mapping';

export { VCAP_GID, VCAP_UID };

/** Bumped whenever the stack layout changes; a stack dir with another marker is rebuilt. */
export const STACK_VERSION = 'paas-cflinuxfs-1';
const MARKER = '.paas-stack-version';

const PASSWD = `root:x:0:0:root:/root:/bin/sh
vcap:x:${VCAP_UID}:${VCAP_GID}:vcap:/home/vcap:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
`;
const GROUP = `root:x:0:
tty:x:5:
vcap:x:${VCAP_GID}:
nogroup:x:65534:
`;
const HOSTS = `127.0.0.1 localhost
::1 localhost ip6-localhost ip6-loopback
`;
const NSSWITCH = `passwd: files
group: files
shadow: files
hosts: files dns
networks: files
protocols: files
services: files
`;

const exists = (path: string) => access(path).then(() => true, () => false);

async function writeAtomic(path: string, content: string | Buffer, mode = 0o644): Promise<void> {
  await writeFile(`${path}.tmp`, content, { mode });
  await rename(`${path}.tmp`, path);
}

async function ensureSymlink(target: string, path: string): Promise<void> {
  const current = await readlink(path).catch(() => undefined);
  if (current === target) return;
  await symlink(target, path);
}

async function ensureDir(path: string, mode: number, uid = 0, gid = 0): Promise<void> {
  await mkdir(path, { recursive: true });
  await chmod(path, mode); // mkdir's mode is filtered by the umask
  await chown(path, uid, gid);
}

/**
 * The IPv4 nameservers containers of this stack use (its etc/resolv.conf, a copy of the host's),
 * without loopback ones (a container's loopback is its own). The cell lets containers reach them
 * on port 53, wherever they are (a resolver on the host, or link-local as on AWS).
 */
export async function stackNameservers(stackDir: string): Promise<string[]> {
  const text = await readFile(join(stackDir, 'etc', 'resolv.conf'), 'utf8').catch(() => '');
  const servers = [...text.matchAll(/^\s*nameserver\s+(\d{1,3}(?:\.\d{1,3}){3})\s*$/gm)].map((m) => m[1]!);
  return [...new Set(servers.filter((s) => !s.startsWith('127.')))];
}

/** A resolv.conf that works from a container: systemd-resolved's stub (127.0.0.53) does not. */
async function hostResolvConf(): Promise<string> {
  for (const candidate of ['/run/systemd/resolve/resolv.conf', '/etc/resolv.conf']) {
    const text = await readFile(candidate, 'utf8').catch(() => undefined);
    if (text !== undefined) return text;
  }
  return '';
}

/**
 * Builds our "cflinuxfs" stack at `stackDir` from the host: merged-/usr symlinks, an empty
 * `usr/` (the host /usr is bind-mounted there read-only), a minimal /etc with the vcap user,
 * /home/vcap, /tmp and the empty mount points. Idempotent; returns at once when the version
 * marker is present (after giving /home/vcap to the vcap user of `idMapping`, whose range may
 * have changed). Never call it while containers use an outdated stack of this dir.
 */
export async function ensureStack(stackDir: string, idMapping: IdMapping = DEFAULT_ID_MAPPING): Promise<void> {
  const marker = join(stackDir, MARKER);
  const vcap = hostVcapUser(idMapping);
  if ((await readFile(marker, 'utf8').catch(() => undefined))?.trim() === STACK_VERSION) {
    await chown(join(stackDir, 'home', 'vcap'), vcap.uid, vcap.gid);
    return;
  }

  await ensureDir(stackDir, 0o755);
  for (const dir of ['usr', 'proc', 'dev', 'sys', 'etc', 'home', 'var', 'run']) await ensureDir(join(stackDir, dir), 0o755);
  await ensureDir(join(stackDir, 'root'), 0o700);
  await ensureDir(join(stackDir, 'tmp'), 0o1777);
  await ensureDir(join(stackDir, 'var', 'tmp'), 0o1777);
  await ensureDir(join(stackDir, 'home', 'vcap'), 0o755, vcap.uid, vcap.gid);
  for (const name of ['bin', 'lib', 'lib64', 'sbin']) await ensureSymlink(`usr/${name}`, join(stackDir, name));

  const etc = join(stackDir, 'etc');
  await writeAtomic(join(etc, 'passwd'), PASSWD);
  await writeAtomic(join(etc, 'group'), GROUP);
  await writeAtomic(join(etc, 'hosts'), HOSTS);
  await writeAtomic(join(etc, 'nsswitch.conf'), NSSWITCH);
  await writeAtomic(join(etc, 'resolv.conf'), await hostResolvConf());
  await writeAtomic(join(etc, 'hostname'), 'localhost\n');
  if (await exists('/etc/ssl/certs')) {
    await mkdir(join(etc, 'ssl'), { recursive: true });
    // The entries are symlinks into /usr/share/ca-certificates, which the /usr bind provides.
    await cp('/etc/ssl/certs', join(etc, 'ssl', 'certs'), { recursive: true, verbatimSymlinks: true, force: true });
  }
  if (await exists('/etc/ca-certificates.conf')) {
    await writeAtomic(join(etc, 'ca-certificates.conf'), await readFile('/etc/ca-certificates.conf'));
  }
  await writeAtomic(marker, `${STACK_VERSION}\n`);
}
