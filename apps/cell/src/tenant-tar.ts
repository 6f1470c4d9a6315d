import { open } from 'node:fs/promises';
import { checkTarFile, describeTarProblems } from '@paas/tenant-files';
import { runAsBuildUser, type BuildUser } from './build-user';

/** A tenant's tar the cell refused to unpack (the message names the members and why): the tenant's to fix, no cell fault. */
export class TenantTarError extends Error {}

/**
 * Unpacks a tar a tenant shaped (a source package, a droplet) into `dir`, which the build user
 * owns: first every member is checked (TarMemberCheck: no devices, FIFOs, absolute or `..` paths,
 * members below a symbolic link, hard links but to an earlier regular file), then GNU tar runs as
 * the build user `user`, not root, without restoring owners or modes beyond the umask, and without
 * replacing `dir` itself; gzipped or not (GNU tar does not detect that on a pipe). `what` names
 * the archive in the error ("the source package").
 */
export async function unpackTenantTar(file: string, dir: string, what: string, user: BuildUser): Promise<void> {
  const check = await checkTarFile(file);
  if (check.unreadable !== undefined) throw new TenantTarError(`${what} is not a readable tar (${check.unreadable})`);
  if (check.problems.length > 0) throw new TenantTarError(`${what} has ${describeTarProblems(check.problems)}`);
  await runAsBuildUser(['tar', (await isGzip(file)) ? '-xzf' : '-xf', '-', '--no-same-owner', '--no-same-permissions', '--no-overwrite-dir'], user, { cwd: dir, stdinFile: file });
}

/** True when `file` starts with gzip's magic bytes. */
async function isGzip(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await handle.close();
  }
}
