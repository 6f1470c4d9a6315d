import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../platform/config/controller-config';

/** backups: service instances' backups (a pg_dump or an RDB snapshot), id = the backup's id; a cell fetches one to restore a Redis instance. */
export type BlobKind = 'packages' | 'droplets' | 'backups';
export const BLOB_KINDS: readonly BlobKind[] = ['packages', 'droplets', 'backups'];

/** Source packages, droplets and service backups, as files under the blobstore directory, served to cells over HTTP. */
@Injectable()
export class BlobstoreService implements OnModuleInit {
  constructor(@Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig) {}

  /** Every tenant's source, droplets and git repositories live below: root's alone (cells fetch them over HTTP). */
  async onModuleInit(): Promise<void> {
    for (const kind of BLOB_KINDS) await mkdir(join(this.config.blobstoreDir, kind), { recursive: true });
    await chmod(this.config.blobstoreDir, 0o700);
  }

  path(kind: BlobKind, id: string): string {
    if (!/^[a-zA-Z0-9-]+$/.test(id)) throw new Error(`invalid blob id ${id}`);
    return join(this.config.blobstoreDir, kind, id);
  }

  url(kind: BlobKind, id: string): string {
    return `${this.config.url}/internal/v1/blobs/${kind}/${id}`;
  }

  /** Writes a blob atomically (temp file, then rename), so a reader never sees half of it. */
  async put(kind: BlobKind, id: string, body: Readable): Promise<number> {
    const final = this.path(kind, id);
    const temp = `${final}.${process.pid}.${Date.now()}.part`;
    try {
      await pipeline(body, createWriteStream(temp));
      await rename(temp, final);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return (await stat(final)).size;
  }

  async open(kind: BlobKind, id: string): Promise<{ stream: Readable; size: number } | undefined> {
    const file = this.path(kind, id);
    const info = await stat(file).catch(() => undefined);
    if (!info) return undefined;
    return { stream: createReadStream(file), size: info.size };
  }

  async remove(kind: BlobKind, id: string): Promise<void> {
    await rm(this.path(kind, id), { force: true });
  }

  /** The ids of the blobs of a kind (not the temp files of writes under way), with their modification times. */
  async list(kind: BlobKind): Promise<Array<{ id: string; modifiedAt: Date }>> {
    const dir = join(this.config.blobstoreDir, kind);
    const out: Array<{ id: string; modifiedAt: Date }> = [];
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!/^[a-zA-Z0-9-]+$/.test(name)) continue;
      const info = await stat(join(dir, name)).catch(() => undefined);
      if (info?.isFile()) out.push({ id: name, modifiedAt: info.mtime });
    }
    return out;
  }
}
