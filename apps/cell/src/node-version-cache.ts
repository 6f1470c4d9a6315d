import { createReadStream, createWriteStream, type Stats } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Parser, type ReadEntry } from 'tar';
import { integrityMatches, Sha512Check, sha512Digests } from './integrity';
import { nodeBinaryPackage, registryRequest, resolveNodeRelease, shownRegistry, type NodeRelease } from './node-release-resolver';

/** A folder of the cell's Node.js cache: `<version>` (touched by each staging that uses it) or `.tmp-*` (a download). */
export interface CachedNodeVersion {
  name: string;
  /** Last use (a version) or creation (a download in progress). */
  mtimeMs: number;
}

/**
 * Which folders of the Node.js cache to delete: all but the `keep` most recently used versions,
 * except those used within `graceMs` (a staging may be copying the binary right now); downloads
 * (`.tmp-*`) only once older than `graceMs` (left behind by a staging that was killed).
 */
export function nodeVersionsToPrune(entries: CachedNodeVersion[], keep: number, nowMs: number, graceMs: number): string[] {
  const recent = (e: CachedNodeVersion) => nowMs - e.mtimeMs < graceMs;
  const downloads = entries.filter((e) => e.name.startsWith('.'));
  const versions = entries.filter((e) => !e.name.startsWith('.')).sort((a, b) => b.mtimeMs - a.mtimeMs);
  return [
    ...versions.slice(keep).filter((e) => !recent(e)),
    ...downloads.filter((e) => !recent(e)),
  ].map((e) => e.name);
}

/** Applies nodeVersionsToPrune to the folder `dir`; returns the names removed. A missing folder is empty. */
export async function pruneNodeVersions(dir: string, keep: number, graceMs: number, nowMs = Date.now()): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const entries: CachedNodeVersion[] = [];
  for (const name of names) {
    const info = await stat(join(dir, name)).catch(() => undefined);
    if (info?.isDirectory()) entries.push({ name, mtimeMs: info.mtimeMs });
  }
  const doomed = nodeVersionsToPrune(entries, keep, nowMs, graceMs);
  for (const name of doomed) await rm(join(dir, name), { recursive: true, force: true });
  return doomed;
}

/** What a staging gets for engines.node: the version and the cell's read-only folder holding `bin/node`. */
export type ProvidedNode = { ok: true; version: string; dir: string } | { ok: false; error: string };

/** Largest node-linux-* tarball accepted (they are ~50 MB). */
const TARBALL_MAX_BYTES = 512 * 1024 * 1024;
const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;
/** Written by the cell into each version it installed, holding the tarball's verified integrity. */
const VERIFIED_MARKER = '.paas-verified';
const EXACT_VERSION = /^v?(\d+\.\d+\.\d+)$/;

/**
 * The cell's cache of Node.js binaries, `<dir>/<version>/bin/node`, shared by every app staged on
 * the cell and therefore written by the cell alone: resolved against the registry (engines.node),
 * downloaded, checked against the registry's `dist.integrity` (sha512) before use, unpacked by the
 * cell itself (only `package/bin/node` of the tarball, written to a new file, no link followed)
 * into a temporary folder and renamed into place; root-owned and read-only to builds, which get
 * the one version they need as a read-only mount. A folder the cell did not make this way (e.g.
 * left writable by an older cell) is removed and fetched again. Concurrent requests for one
 * version share one download. Lines for the build log go to `say` (the buildpack's former ones).
 */
export class NodeVersionCache {
  private readonly pending = new Map<string, Promise<ProvidedNode>>();

  constructor(
    private readonly dir: string,
    private readonly registry: string,
    private readonly packageName = nodeBinaryPackage(),
  ) {}

  /** The Node.js for engines.node `range`, installed on the cell if need be. Never throws. */
  async provide(range: string, say: (line: string) => void): Promise<ProvidedNode> {
    try {
      await this.ensureRoot();
      const exact = EXACT_VERSION.exec(range)?.[1];
      // An exact version already on this cell needs no registry round trip.
      if (exact && (await this.isVerified(exact))) return await this.use(exact, say);
      const registry = shownRegistry(this.registry);
      say(`-----> Resolving Node.js ${range} (engines.node) with ${registry}`);
      let release: NodeRelease | undefined;
      try {
        release = await resolveNodeRelease(this.registry, range, this.packageName);
      } catch (error) {
        return { ok: false, error: `could not resolve engines.node "${range}" with the registry ${registry}: ${(error as Error).message}` };
      }
      if (!release) {
        return { ok: false, error: `no Node.js release matches engines.node "${range}" in package.json: name an existing version or range, e.g. "24.x"` };
      }
      if (await this.isVerified(release.version)) return await this.use(release.version, say);
      const found = release;
      let p = this.pending.get(found.version);
      if (!p) {
        say(`-----> Downloading Node.js ${found.version} (${this.packageName}@${found.version})`);
        p = this.install(found).finally(() => this.pending.delete(found.version));
        this.pending.set(found.version, p);
      } else {
        say(`-----> Waiting for Node.js ${found.version}, which another staging on this cell is downloading`);
      }
      const installed = await p;
      return installed.ok ? await this.use(found.version, say, false) : installed;
    } catch (error) {
      return { ok: false, error: `could not provide Node.js for engines.node "${range}" on this cell: ${(error as Error).message}` };
    }
  }

  /** Marks `version` as the most recently used (what pruneNodeVersions keeps). */
  private async use(version: string, say: (line: string) => void, cached = true): Promise<ProvidedNode> {
    const dir = join(this.dir, version);
    const now = new Date();
    await utimes(dir, now, now);
    if (cached) say(`-----> Using Node.js ${version} (cached on this cell)`);
    return { ok: true, version, dir };
  }

  /** The cache folder exists, is a real directory owned by root and writable by root alone; else it is made so. */
  private async ensureRoot(): Promise<void> {
    const info = await lstat(this.dir).catch(() => undefined);
    if (info && !(info.isDirectory() && rootOnly(info))) {
      // Left by an older cell that gave it to the build user: nothing in it can be trusted.
      await rm(this.dir, { recursive: true, force: true });
    }
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    await chmod(this.dir, 0o755);
  }

  /** True when `<dir>/<version>` is one the cell made: root's all the way down, with its marker. Else removes it. */
  private async isVerified(version: string): Promise<boolean> {
    const folder = join(this.dir, version);
    const parts = [folder, join(folder, 'bin'), join(folder, 'bin', 'node'), join(folder, VERIFIED_MARKER)];
    const infos = await Promise.all(parts.map((p) => lstat(p).catch(() => undefined)));
    if (!infos[0]) return false;
    const [top, bin, node, marker] = infos;
    const good =
      top.isDirectory() && rootOnly(top) && bin?.isDirectory() && rootOnly(bin) && node?.isFile() && rootOnly(node) && node.nlink === 1 && marker?.isFile() && rootOnly(marker);
    if (!good) await rm(folder, { recursive: true, force: true });
    return Boolean(good);
  }

  private async install(release: NodeRelease): Promise<ProvidedNode> {
    const registry = shownRegistry(this.registry);
    const what = `${release.packageName}@${release.version}`;
    if (sha512Digests(release.integrity).length === 0) {
      return { ok: false, error: `the registry ${registry} gives no sha512 integrity for ${what}: the cell installs no Node.js it cannot verify; use a registry that publishes dist.integrity` };
    }
    const scratch = await mkdtemp(join(this.dir, '.tmp-'));
    try {
      const tarball = join(scratch, 'node.tgz');
      const actual = await this.download(release, tarball).catch((error: Error) => error);
      if (actual instanceof Error) return { ok: false, error: `could not download ${what} from ${registry}: ${actual.message}` };
      if (!integrityMatches(release.integrity, actual)) {
        return {
          ok: false,
          error: `${what} from ${registry} does not match the registry's integrity (dist.integrity ${release.integrity}, the download has ${actual}): it was corrupted or tampered with, and nothing was installed; push again, and if it persists check the registry`,
        };
      }
      const version = join(scratch, 'version');
      await mkdir(join(version, 'bin'), { recursive: true });
      if (!(await extractNodeBinary(tarball, join(version, 'bin', 'node')))) {
        return { ok: false, error: `${what} from ${registry} has no package/bin/node: it is not the Node.js binary package` };
      }
      await writeFile(join(version, VERIFIED_MARKER), `${release.integrity}\n`, { mode: 0o644 });
      await chmod(join(version, 'bin'), 0o755);
      await chmod(version, 0o755);
      try {
        await rename(version, join(this.dir, release.version));
      } catch (error) {
        // Another cell process got there first (a restart racing a staging): use theirs if it is good.
        if (!(await this.isVerified(release.version))) throw error;
      }
      return { ok: true, version: release.version, dir: join(this.dir, release.version) };
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  /** Streams the tarball to `file`, at most TARBALL_MAX_BYTES; returns its SRI (`sha512-...`). */
  private async download(release: NodeRelease, file: string): Promise<string> {
    const registryOrigin = registryRequest(this.registry);
    const { url, headers } = registryRequest(release.tarballUrl);
    // Credentials of the registry go to the registry only, not to another host its packument names.
    const auth = url.origin === registryOrigin.url.origin ? registryOrigin.headers : {};
    const response = await fetch(url, { headers: { ...headers, ...auth }, signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
    if (!response.ok || !response.body) throw new Error(`${url.toString()} answered ${response.status}`);
    const check = new Sha512Check();
    let size = 0;
    const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size > TARBALL_MAX_BYTES) return done(new Error(`the tarball is larger than ${TARBALL_MAX_BYTES / 1024 / 1024} MB`));
        check.update(chunk);
        done(null, chunk);
      },
    });
    await pipeline(body, meter, createWriteStream(file, { flags: 'wx', mode: 0o600 }));
    return check.digest();
  }
}

/** Owned by root and writable by nobody else (no group or other write bit), not a link. */
function rootOnly(info: Stats): boolean {
  return !info.isSymbolicLink() && info.uid === 0 && (info.mode & 0o022) === 0;
}

/**
 * Writes the `package/bin/node` member of a verified tarball to `target` (a new file, 0755),
 * reading nothing else and creating nothing else: no path of the archive is ever created on
 * disk. False when the tarball has no such regular file.
 */
async function extractNodeBinary(tarball: string, target: string): Promise<boolean> {
  let found = false;
  const writes: Promise<void>[] = [];
  const parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      if (!found && entry.type === 'File' && entry.path.replace(/^\.\//, '') === 'package/bin/node') {
        found = true;
        writes.push(pipeline(entry, createWriteStream(target, { flags: 'wx', mode: 0o755 })));
      } else {
        entry.resume();
      }
    },
  });
  await pipeline(createReadStream(tarball), parser);
  await Promise.all(writes);
  if (found) await chmod(target, 0o755);
  return found;
}
