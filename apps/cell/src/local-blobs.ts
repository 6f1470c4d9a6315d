import { copyFile } from 'node:fs/promises';
import { BlobClient } from './blob-client';

/**
 * Blobs as local files, for tests that stage or unpack without a controller: the source tarball or
 * droplet is read from, and an upload written to, the paths given as URLs.
 */
export class LocalBlobs extends BlobClient {
  constructor() {
    super('unused');
  }

  override async download(url: string, file: string): Promise<void> {
    await copyFile(url, file);
  }

  override async upload(url: string, file: string): Promise<void> {
    await copyFile(file, url);
  }
}
