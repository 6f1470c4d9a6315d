import { mkdir, readFile } from 'node:fs/promises';
import { exec } from './exec';
import { RuntimeError, RuntimeErrorCode } from './runtime-error';

/** Characters that would break overlayfs' comma/colon separated mount options. */
const UNSAFE_PATH = /[,:\\\s]/;

/** Decodes the octal escapes (\040 for a space, ...) that /proc/mounts uses. */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export async function isMounted(target: string): Promise<boolean> {
  const mounts = await readFile('/proc/mounts', 'utf8');
  return mounts.split('\n').some((line) => unescapeMountPath(line.split(' ')[1] ?? '') === target);
}

/**
 * Mounts an overlay at `target`: `lowerDirs` uppermost first (read-only), writes go to `upperDir`.
 * Safe to call twice.
 */
export async function mountOverlay(target: string, lowerDirs: string[], upperDir: string, workDir: string): Promise<void> {
  for (const dir of [target, upperDir, workDir, ...lowerDirs]) {
    if (!dir.startsWith('/') || UNSAFE_PATH.test(dir)) {
      throw new RuntimeError(RuntimeErrorCode.InvalidSpec, `overlay path "${dir}" must be absolute and free of , : \\ and spaces`);
    }
  }
  await Promise.all([mkdir(target, { recursive: true }), mkdir(upperDir, { recursive: true }), mkdir(workDir, { recursive: true })]);
  if (await isMounted(target)) return;
  const options = `lowerdir=${lowerDirs.join(':')},upperdir=${upperDir},workdir=${workDir}`;
  await exec('mount', ['-t', 'overlay', 'overlay', '-o', options, target]);
}

/** Unmounts `target` if it is mounted (lazily when busy). Safe to call twice. */
export async function unmount(target: string): Promise<void> {
  for (let attempt = 0; attempt < 5 && (await isMounted(target)); attempt++) {
    try {
      await exec('umount', [target]);
    } catch (error) {
      if (attempt === 4) throw error;
      if (attempt >= 2) await exec('umount', ['-l', target]).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  if (await isMounted(target)) {
    throw new RuntimeError(RuntimeErrorCode.CommandFailed, `umount ${target}: still mounted`);
  }
}
