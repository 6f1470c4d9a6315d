import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Downloads and uploads blobs of the controller's blobstore with the internal token. */
export class BlobClient {
  constructor(private readonly internalToken: string) {}

  async download(url: string, file: string): Promise<void> {
    const res = await fetch(url, { headers: { 'x-paas-internal-token': this.internalToken } });
    if (!res.ok || !res.body) throw new Error(`download of ${url} failed: HTTP ${res.status}`);
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(file));
  }

  async upload(url: string, file: string): Promise<void> {
    const size = (await stat(file)).size;
    const res = await fetch(url, {
      method: 'PUT',
      headers: {
        'x-paas-internal-token': this.internalToken,
        'content-type': 'application/octet-stream',
        'content-length': String(size),
      },
      body: Readable.toWeb(createReadStream(file)) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    if (!res.ok) throw new Error(`upload to ${url} failed: HTTP ${res.status} ${await res.text()}`);
  }
}
