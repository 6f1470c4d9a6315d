import { spawn } from 'node:child_process';
import { chown, open } from 'node:fs/promises';
import { VCAP_GID, VCAP_UID } from '@paas/runtime';

/**
 * The host uid/gid that owns what a build or an app may write (the app's source, build cache,
 * output and unpacked droplet), and that the cell drops to when it handles tenant data itself.
 * The single place that knows it: with user namespaces, the container's uid 2000 maps to
 * another host uid, and only this changes.
 */
export const BUILD_USER = { uid: VCAP_UID, gid: VCAP_GID } as const;

/** Gives `path` (one directory or file the platform made, never a tenant's tree) to the build user. */
export async function chownToBuildUser(path: string): Promise<void> {
  await chown(path, BUILD_USER.uid, BUILD_USER.gid);
}

/**
 * Runs `command` on the host as the build user, never as root: no capabilities, no groups, no new
 * privileges; in `cwd` (entered while still root, so its ancestors need not be open to the build
 * user) with `stdinFile` (opened as root) as its standard input and `stdoutFile` (created by root,
 * mode 0600, must not exist) as its standard output. Resolves on exit 0; rejects
 * with the command and its stderr otherwise.
 */
export async function runAsBuildUser(command: string[], options: { cwd: string; stdinFile?: string; stdoutFile?: string }): Promise<void> {
  const input = options.stdinFile ? await open(options.stdinFile, 'r') : undefined;
  const output = options.stdoutFile ? await open(options.stdoutFile, 'wx', 0o600).catch(async (error: unknown) => {
    await input?.close();
    throw error;
  }) : undefined;
  try {
    const child = spawn(
      'setpriv',
      [`--reuid=${BUILD_USER.uid}`, `--regid=${BUILD_USER.gid}`, '--clear-groups', '--inh-caps=-all', '--no-new-privs', '--', ...command],
      { cwd: options.cwd, stdio: [input ? input.fd : 'ignore', output ? output.fd : 'ignore', 'pipe'], env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' } },
    );
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    if (code !== 0) throw new Error(`${command.join(' ')} (as uid ${BUILD_USER.uid}) failed: ${stderr.trim() || `exit ${code}`}`);
  } finally {
    await input?.close();
    await output?.close();
  }
}
