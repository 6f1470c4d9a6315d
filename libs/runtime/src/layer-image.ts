import { mkdir, open, rm, stat } from 'node:fs/promises';
import { exec } from './exec';
import { isMounted, unmount } from './overlay';
import { CommandFailedError, RuntimeError, RuntimeErrorCode } from './runtime-error';

/**
 * The size-limited writable layer of a container: a sparse ext4 image file, loop-mounted, that
 * holds the overlay's upper/ and work/ (they must be on one filesystem). Writes past its size
 * fail with ENOSPC inside the container; on the host the image never takes more than its size.
 *
 * - No journal: the layer is disposable (after a host crash every container is gone and
 *   `recover` destroys it), and a journal would take ~3% of the quota.
 * - `lazy_itable_init` + mount option `noinit_itable`: the sparse file already reads as zeros, so
 *   neither mkfs nor the kernel's lazyinit thread write the inode tables.
 * - `discard`: files deleted in the container punch holes in the image, so the host gets the
 *   space back while the container runs.
 * - `mount -o loop` sets the loop device's autoclear flag: the device detaches itself when the
 *   last user (the layer mount and the overlay on top of it) is gone. `releaseLayerImage` still
 *   detaches whatever is left, e.g. after a crash between losetup and mount.
 */
const MOUNT_OPTIONS = 'noatime,nosuid,nodev,noinit_itable,discard';

/**
 * Creates a sparse image of `sizeMb` MiB with an empty ext4 filesystem (replaces an unused file
 * there). `journal`: with one, for data that must survive a host crash (a service's volume).
 */
export async function createLayerImage(image: string, sizeMb: number, options: { journal?: boolean } = {}): Promise<void> {
  const attached = await loopDevicesOf(image);
  if (attached.length > 0) {
    throw new RuntimeError(RuntimeErrorCode.AlreadyExists, `${image} is in use by ${attached.join(' ')}`);
  }
  const file = await open(image, 'w', 0o600);
  try {
    await file.truncate(sizeMb * 1024 * 1024);
  } finally {
    await file.close();
  }
  const features = options.journal ? [] : ['-O', '^has_journal'];
  await exec('mkfs.ext4', ['-q', '-F', '-m', '0', ...features, '-E', 'lazy_itable_init=1,nodiscard', image]);
}

/**
 * Mounts `image` at `target` unless something is mounted there already. When a loop device is
 * still attached to the image (the overlay of a running container keeps it busy after the layer
 * mount itself went away), that device is mounted again: a second loop device on the same file
 * would mount the filesystem twice and corrupt it. Safe to call twice.
 */
export async function mountLayerImage(image: string, target: string): Promise<void> {
  await mkdir(target, { recursive: true });
  if (await isMounted(target)) return;
  const attached = await loopDevicesOf(image);
  if (attached.length > 0) {
    await exec('mount', ['-t', 'ext4', '-o', MOUNT_OPTIONS, attached[0]!, target]);
  } else {
    await exec('mount', ['-t', 'ext4', '-o', `loop,${MOUNT_OPTIONS}`, image, target]);
  }
}

/**
 * Unmounts `target`, detaches every loop device still backed by `image` and removes the image.
 * Whatever mounts on top of `target` (the rootfs overlay) must be unmounted first. Safe to call
 * twice and when nothing was ever created.
 */
export async function releaseLayerImage(image: string, target: string): Promise<void> {
  await unmount(target);
  await detachLoopDevices(image);
  await rm(image, { force: true });
}

/** Unmounts `target` and detaches the loop devices of `image`, keeping the image (mount it again later). Safe to call twice. */
export async function unmountLayerImage(image: string, target: string): Promise<void> {
  await unmount(target);
  await detachLoopDevices(image);
}

/**
 * Grows the image's filesystem to `sizeMb` MiB, offline: the image must not be in use (unmount
 * it first). Extends the sparse file, checks the filesystem (`e2fsck -f -p`, as resize2fs wants)
 * and grows it (`resize2fs`). Offline because an online grow needs CAP_SYS_RESOURCE, which a
 * cell in a container may lack. A size below the image's throws and changes nothing; the same
 * size again only makes sure the filesystem fills the image (a grow cut short).
 */
export async function growLayerImage(image: string, sizeMb: number): Promise<void> {
  const attached = await loopDevicesOf(image);
  if (attached.length > 0) throw new RuntimeError(RuntimeErrorCode.AlreadyExists, `${image} is in use by ${attached.join(' ')}: unmount it before it grows`);
  const before = (await stat(image)).size;
  const wanted = sizeMb * 1024 * 1024;
  if (wanted < before) {
    throw new RuntimeError(RuntimeErrorCode.InvalidConfig, `${image} has ${Math.floor(before / 1024 / 1024)} MiB and cannot shrink to ${sizeMb} MiB`);
  }
  if (wanted > before) {
    const file = await open(image, 'r+');
    try {
      await file.truncate(wanted);
    } finally {
      await file.close();
    }
  }
  // Exit status 1: errors were found and fixed (a journal replayed), which is fine to go on from.
  await exec('e2fsck', ['-f', '-p', image], { timeoutMs: 300_000 }).catch((error: unknown) => {
    if (!(error instanceof CommandFailedError && error.exitCode === 1)) throw error;
  });
  await exec('resize2fs', [image], { timeoutMs: 300_000 });
}

/** Loop devices (e.g. /dev/loop3) whose backing file is `image`; [] when it does not exist. */
export async function loopDevicesOf(image: string): Promise<string[]> {
  if (!(await stat(image).catch(() => undefined))) return [];
  const { stdout } = await exec('losetup', ['--noheadings', '--output', 'NAME', '--associated', image]);
  return stdout.split('\n').map((line) => line.trim()).filter((line) => line.startsWith('/dev/'));
}

/**
 * Detaches every loop device whose backing file is under `dir` (also when the file has been
 * deleted since). For cleanupAll: catches devices whose container directory is already gone.
 */
export async function detachLoopDevicesUnder(dir: string): Promise<void> {
  const { stdout } = await exec('losetup', ['--list', '--noheadings', '--raw', '--output', 'NAME,BACK-FILE']);
  for (const line of stdout.split('\n')) {
    const space = line.indexOf(' ');
    if (space < 0) continue;
    // --raw escapes spaces and other odd characters in the path as \x20.
    const backFile = line.slice(space + 1).replace(/\\x([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    if (backFile.startsWith(`${dir}/`)) await exec('losetup', ['--detach', line.slice(0, space)]).catch(() => undefined);
  }
}

async function detachLoopDevices(image: string): Promise<void> {
  // Autoclear runs when the last user closes the device, possibly a moment after umount returns.
  for (let attempt = 0; attempt < 20; attempt++) {
    const devices = await loopDevicesOf(image);
    if (devices.length === 0) return;
    for (const device of devices) await exec('losetup', ['--detach', device]).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // Still attached: something (a lazily unmounted overlay) holds the filesystem. `losetup --detach`
  // on a busy device sets autoclear, so the kernel detaches it when that user is gone; the image
  // can be unlinked now, its blocks are freed then.
}
