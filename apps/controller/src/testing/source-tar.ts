import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create as createTar } from 'tar';

/** A tar of these files (name: content), as `git archive` sends a pushed source. */
export async function tarOf(files: Readonly<Record<string, string>>): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'paas-test-src-'));
  try {
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    const chunks: Buffer[] = [];
    for await (const chunk of createTar({ cwd: dir, portable: true }, Object.keys(files))) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The source a test pushes when it names none: a Node.js app the fake buildpack stages. */
export const MINIMAL_SOURCE: Readonly<Record<string, string>> = {
  'package.json': '{"name":"test-app","version":"1.0.0"}\n',
  'server.js': "require('http').createServer((req, res) => res.end('ok')).listen(process.env.PORT);\n",
};
