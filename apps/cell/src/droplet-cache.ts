import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobClient } from './blob-client';
import { run } from './exec';

/**
 * Droplets unpacked once per cell as read-only lower layers: `<dir>/<id>/home/vcap/app`.
 * Concurrent requests for one droplet share a single download.
 */
export class DropletCache {
  private readonly pending = new Map<string, Promise<string>>();

  constructor(
    private readonly dir: string,
    private readonly blobs: BlobClient,
  ) {}

  layerDir(dropletId: string): string {
    return join(this.dir, dropletId);
  }

  /** Removes an unpacked droplet (no instance of this cell uses it any more). */
  async evict(dropletId: string): Promise<void> {
    if (this.pending.has(dropletId)) return;
    await rm(this.layerDir(dropletId), { recursive: true, force: true });
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
      await run('tar', ['-xzf', file, '-C', join(temp, 'home', 'vcap')]);
      await rename(temp, layer);
    } finally {
      await rm(file, { force: true });
      await rm(temp, { recursive: true, force: true });
    }
    return layer;
  }
}
