import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Downloads and uploads blobs of the controller's blobstore with the internal token. */
export class BlobClient {
  constructor(private readonly internalToken: string) {}

  /**
   * Writes the blob at `url` to `file`. `maxBytes`: a body longer than that fails the download
   * (the part written stays for the caller to remove); `mode`: the new file's.
   */
  async download(url: string, file: string, options: { maxBytes?: number; mode?: number } = {}): Promise<void> {
    const res = await fetch(url, { headers: { 'x-paas-internal-token': this.internalToken } });
    if (!res.ok || !res.body) throw new Error(`download of ${url} failed: HTTP ${res.status}`);
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
    const out = createWriteStream(file, options.mode === undefined ? {} : { mode: options.mode });
    const limit = options.maxBytes;
    if (limit === undefined) {
      await pipeline(body, out);
      return;
    }
    let received = 0;
    const bounded = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        received += chunk.length;
        done(received > limit ? new Error(`download of ${url} failed: its body is longer than ${limit} bytes`) : null, chunk);
      },
    });
    await pipeline(body, bounded, out);
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
