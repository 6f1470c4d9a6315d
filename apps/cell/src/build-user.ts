import { spawn } from 'node:child_process';
import { chown, open } from 'node:fs/promises';
import { DEFAULT_ID_MAPPING, hostVcapUser, type IdMapping } from '@paas/runtime';

/**
 * The host uid/gid that owns what a build or an app may write (the app's source, build cache,
 * output and unpacked droplet), and that the cell drops to when it handles tenant data itself:
 * the host uid of the containers' vcap user under the cell's user namespace (CELL_USERNS_HOST_ID),
 * so what the cell unpacks as this user is the app's own inside its container.
 */
export interface BuildUser {
  uid: number;
  gid: number;
}

/** The build user of a cell whose containers use `idMapping`. */
export function buildUserOf(idMapping: IdMapping = DEFAULT_ID_MAPPING): BuildUser {
  return hostVcapUser(idMapping);
}

/** Gives `path` (one directory or file the platform made, never a tenant's tree) to the build user. */
export async function chownToBuildUser(path: string, user: BuildUser): Promise<void> {
  await chown(path, user.uid, user.gid);
}

/**
 * Runs `command` on the host as the build user, never as root: no capabilities, no groups, no new
 * privileges; in `cwd` (entered while still root, so its ancestors need not be open to the build
 * user) with `stdinFile` (opened as root) as its standard input and `stdoutFile` (created by root,
 * mode 0600, must not exist) as its standard output. Resolves on exit 0; rejects
 * with the command and its stderr otherwise.
 */
export async function runAsBuildUser(
  command: string[],
  user: BuildUser,
  options: { cwd: string; stdinFile?: string; stdoutFile?: string },
): Promise<void> {
  const input = options.stdinFile ? await open(options.stdinFile, 'r') : undefined;
  const output = options.stdoutFile ? await open(options.stdoutFile, 'wx', 0o600).catch(async (error: unknown) => {
    await input?.close();
    throw error;
  }) : undefined;
  try {
    const child = spawn(
      'setpriv',
      [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--inh-caps=-all', '--no-new-privs', '--', ...command],
      { cwd: options.cwd, stdio: [input ? input.fd : 'ignore', output ? output.fd : 'ignore', 'pipe'], env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' } },
    );
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    if (code !== 0) throw new Error(`${command.join(' ')} (as uid ${user.uid}) failed: ${stderr.trim() || `exit ${code}`}`);
  } finally {
    await input?.close();
    await output?.close();
  }
}
