import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_ID_MAPPING, type IdMapping } from '@paas/runtime';
import type { BlobClient } from './blob-client';
import { buildUserOf, chownToBuildUser, type BuildUser } from './build-user';
import { unpackTenantTar } from './tenant-tar';

/**
 * Droplets unpacked once per cell as read-only lower layers: `<dir>/<id>/home/vcap/app`, owned by
 * the containers' vcap user (the build user of the cell's id mapping), so an app may write its own
 * files (copied up into its writable layer). A droplet holds what a tenant's build wrote: its
 * members are checked and it is unpacked as that user, never as root (see unpackTenantTar).
 * Concurrent requests for one droplet share a single download. A pinned droplet (a one-off task
 * runs on it) is never evicted until unpinned.
 */
export class DropletCache {
  private readonly pending = new Map<string, Promise<string>>();
  private readonly pins = new Map<string, number>();
  private readonly buildUser: BuildUser;

  constructor(
    private readonly dir: string,
    private readonly blobs: BlobClient,
    idMapping: IdMapping = DEFAULT_ID_MAPPING,
  ) {
    this.buildUser = buildUserOf(idMapping);
  }

  layerDir(dropletId: string): string {
    return join(this.dir, dropletId);
  }

  /** Removes an unpacked droplet (no instance of this cell uses it any more); a no-op while pinned or loading. */
  async evict(dropletId: string): Promise<void> {
    if (this.pending.has(dropletId) || this.isPinned(dropletId)) return;
    await rm(this.layerDir(dropletId), { recursive: true, force: true });
  }

  /** Keeps a droplet from eviction while a task uses it; every pin is paired with one unpin. */
  pin(dropletId: string): void {
    this.pins.set(dropletId, (this.pins.get(dropletId) ?? 0) + 1);
  }

  unpin(dropletId: string): void {
    const left = (this.pins.get(dropletId) ?? 0) - 1;
    if (left > 0) this.pins.set(dropletId, left);
    else this.pins.delete(dropletId);
  }

  isPinned(dropletId: string): boolean {
    return this.pins.has(dropletId);
  }

  /**
   * Removes every unpacked droplet but `keep` (at start-up, after re-adopting containers: layers
   * left by instances that stopped while the agent was down). Returns the ids removed.
   */
  async removeAllExcept(keep: ReadonlySet<string>): Promise<string[]> {
    const entries = await readdir(this.dir).catch(() => [] as string[]);
    const removed: string[] = [];
    for (const name of entries) {
      const id = name.replace(/(\.part)?(\.tgz)?$/, '');
      if (keep.has(id) || this.pending.has(id) || this.isPinned(id)) continue;
      await rm(join(this.dir, name), { recursive: true, force: true });
      removed.push(name);
    }
    return removed;
  }

  fetch(dropletId: string, url: string): Promise<string> {
    let p = this.pending.get(dropletId);
    if (!p) {
      p = this.load(dropletId, url).finally(() => this.pending.delete(dropletId));
      this.pending.set(dropletId, p);
    }
    return p;
  }

  private async load(dropletId: string, url: string): Promise<string> {
    const layer = this.layerDir(dropletId);
    if (await stat(join(layer, 'home', 'vcap', 'app')).catch(() => undefined)) return layer;
    const temp = `${layer}.part`;
    await rm(temp, { recursive: true, force: true });
    await mkdir(join(temp, 'home', 'vcap'), { recursive: true });
    const file = `${temp}.tgz`;
    try {
      await this.blobs.download(url, file);
      // /home/vcap too: this layer's copy hides the stack's, and $HOME must stay vcap's.
      await chownToBuildUser(join(temp, 'home', 'vcap'), this.buildUser);
      await unpackTenantTar(file, join(temp, 'home', 'vcap'), `the droplet ${dropletId}`, this.buildUser);
      await rename(temp, layer);
    } finally {
      await rm(file, { force: true });
      await rm(temp, { recursive: true, force: true });
    }
    return layer;
  }
}
