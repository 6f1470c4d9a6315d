import { chmod, chown, mkdir, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { createLayerImage, growLayerImage, hostVcapUser, mountLayerImage, releaseLayerImage, unmountLayerImage, type IdMapping } from '@paas/runtime';

/**
 * Where service instances keep their data, by instance id. Contract: `prepare` before the
 * server's container starts (it returns the host path bind-mounted at /data); `unmount` and
 * `remove` after its container is gone; every method is safe to call twice.
 */
export interface ServiceVolumes {
  /**
   * Mounts the instance's volume, making it first when `fresh` (the server's data was never
   * initialised: whatever a start that failed half way left is replaced). Its root belongs to the
   * containers' vcap user (0700). Returns its host path. Throws when an initialised instance's
   * volume is gone: an empty one in its place would hide that its data was lost.
   */
  prepare(serviceInstanceId: string, diskMb: number, fresh: boolean): Promise<string>;
  /**
   * Grows the volume to diskMb, its server's container gone (the filesystem grows unmounted),
   * and mounts it again. Throws when the volume is bigger than diskMb (volumes never shrink;
   * nothing changed) or gone.
   */
  grow(serviceInstanceId: string, diskMb: number): Promise<void>;
  /** Bytes in use on the volume; undefined when it is not mounted. Cheap (statfs). */
  usedBytes(serviceInstanceId: string): Promise<number | undefined>;
  /** Unmounts it, keeping the data (the agent stops; the next start mounts it again). */
  unmount(serviceInstanceId: string): Promise<void>;
  /** Unmounts and deletes it for good. */
  remove(serviceInstanceId: string): Promise<void>;
  /** The file or folder that holds the data (for tests and operators). */
  storageOf(serviceInstanceId: string): string;
}

/**
 * The real volumes: one ext4 image of diskMb per instance (`<dir>/volumes/<id>.img`, sparse, with
 * a journal: a database must survive a host crash), loop-mounted at `<dir>/mounts/<id>` (nosuid,
 * nodev). Writes past its size fail with ENOSPC in the server, never fill the host. `dir` (the
 * cell's services dir) is made traversable (0711): the containers' root, an unprivileged host uid,
 * must reach the mount to bind it; the images' folder is root's alone.
 */
export class LoopVolumes implements ServiceVolumes {
  constructor(
    private readonly dir: string,
    private readonly idMapping: IdMapping,
  ) {}

  storageOf(id: string): string {
    return join(this.dir, 'volumes', `${id}.img`);
  }

  private mountOf(id: string): string {
    return join(this.dir, 'mounts', id);
  }

  async prepare(id: string, diskMb: number, fresh: boolean): Promise<string> {
    await ensureDir(this.dir, 0o711);
    await ensureDir(join(this.dir, 'volumes'), 0o700);
    await ensureDir(join(this.dir, 'mounts'), 0o711);
    const image = this.storageOf(id);
    const mount = this.mountOf(id);
    if (!fresh && !(await stat(image).then(() => true, () => false))) throw volumeGone(image);
    if (fresh) {
      await releaseLayerImage(image, mount);
      await createLayerImage(image, diskMb, { journal: true });
    }
    await mountLayerImage(image, mount);
    if (fresh) {
      const vcap = hostVcapUser(this.idMapping);
      await rm(join(mount, 'lost+found'), { recursive: true, force: true });
      await chown(mount, vcap.uid, vcap.gid);
      await chmod(mount, 0o700);
    }
    return mount;
  }

  async grow(id: string, diskMb: number): Promise<void> {
    const image = this.storageOf(id);
    if (!(await stat(image).then(() => true, () => false))) throw volumeGone(image);
    await unmountLayerImage(image, this.mountOf(id));
    try {
      await growLayerImage(image, diskMb);
    } finally {
      await mountLayerImage(image, this.mountOf(id));
    }
  }

  async usedBytes(id: string): Promise<number | undefined> {
    const mount = this.mountOf(id);
    const [own, parent] = await Promise.all([stat(mount).catch(() => undefined), stat(join(this.dir, 'mounts')).catch(() => undefined)]);
    // Not mounted: the mount point is a folder on the services dir's filesystem, not the volume.
    if (!own || !parent || own.dev === parent.dev) return undefined;
    const fs = await statfs(mount);
    return (fs.blocks - fs.bfree) * fs.bsize;
  }

  async unmount(id: string): Promise<void> {
    await unmountLayerImage(this.storageOf(id), this.mountOf(id));
  }

  async remove(id: string): Promise<void> {
    await releaseLayerImage(this.storageOf(id), this.mountOf(id));
    await rm(this.mountOf(id), { recursive: true, force: true });
  }
}

/**
 * The fake runtime's volumes (CELL_RUNTIME=fake): a plain folder per instance, no size limit, no
 * mount; no server ever writes to it. Lets the agent's service lifecycle run without root.
 */
export class DirectoryVolumes implements ServiceVolumes {
  constructor(private readonly dir: string) {}

  storageOf(id: string): string {
    return join(this.dir, 'volumes', id);
  }

  async prepare(id: string, _diskMb: number, fresh: boolean): Promise<string> {
    if (!fresh && !(await stat(this.storageOf(id)).then(() => true, () => false))) throw volumeGone(this.storageOf(id));
    if (fresh) await rm(this.storageOf(id), { recursive: true, force: true });
    await mkdir(this.storageOf(id), { recursive: true, mode: 0o700 });
    return this.storageOf(id);
  }

  async grow(id: string): Promise<void> {
    // A folder has no size to grow; it only has to be there still.
    if (!(await stat(this.storageOf(id)).then(() => true, () => false))) throw volumeGone(this.storageOf(id));
  }

  async usedBytes(id: string): Promise<number | undefined> {
    return (await stat(this.storageOf(id)).catch(() => undefined)) ? 0 : undefined;
  }

  async unmount(): Promise<void> {
    // Nothing is mounted: the folder stays as it is.
  }

  async remove(id: string): Promise<void> {
    await rm(this.storageOf(id), { recursive: true, force: true });
  }
}

function volumeGone(path: string): Error {
  return new Error(`its volume ${path} is gone, and the data with it: delete the service instance (and create a new one)`);
}

async function ensureDir(path: string, mode: number): Promise<void> {
  await mkdir(path, { recursive: true });
  await chmod(path, mode);
}
