import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { StageJob, StageResult } from '@paas/contracts';
import {
  BUILTIN_BUILDPACKS_DIR,
  NO_BUILDPACK_EXIT_CODE,
  STAGING_BUILDPACKS_MOUNT,
  STAGING_COMMAND,
  STAGING_ENV_DIR,
  STAGING_NODE_VERSIONS_MOUNT,
  STAGING_OPERATOR_BUILDPACKS_MOUNT,
  envDirFiles,
  findBuildpack,
  listBuildpacks,
  processTypesOf,
  unknownBuildpackMessage,
  webStartCommand,
  type Buildpack,
} from '@paas/buildpacks';
import {
  chownToVcap,
  chownTreeToVcap,
  DEFAULT_ID_MAPPING,
  hostVcapUser,
  STACK_VERSION,
  VCAP_GID,
  VCAP_UID,
  type ContainerRuntime,
  type IdMapping,
} from '@paas/runtime';
import type { BlobClient } from './blob-client';
import { run } from './exec';
import { EgressPolicy } from './egress-policy';
import { pruneNodeVersions } from './node-version-cache';

const STAGING_TIMEOUT_MS = 15 * 60_000;
/**
 * gzip level of droplets. A droplet with a vendored Node (126 MB binary): level 1 packs it in 1.5 s
 * to 47 MB, the default 6 in 4.0 s to 43 MB (measured on this project's 2-CPU host).
 */
const DROPLET_GZIP_LEVEL = 1;

export interface StagerOptions {
  /** The operator's buildpacks folder (CELL_BUILDPACKS_DIR): tried before the built-ins. */
  buildpacksDir?: string;
  /** npm registry for staging (CELL_NPM_REGISTRY). Unset: npm's default. */
  npmRegistry?: string;
  /** Node.js versions kept in <dataDir>/node-versions, the most recently used (CELL_NODE_VERSIONS_KEEP). */
  nodeVersionsToKeep?: number;
  /** The built-in buildpacks (tests may point elsewhere). */
  builtinBuildpacksDir?: string;
  /** The runtime's user namespace (CELL_USERNS_HOST_ID): what staging writes belongs to its vcap. */
  idMapping?: IdMapping;
  /** The platform allowances (npm registry, router) added to each build's staging rules; unset: the rules alone. */
  egress?: EgressPolicy;
}

/**
 * Stages one build in a staging container: source in /tmp/app, the app's build cache in
 * /tmp/cache, its variables as ENV_DIR in /tmp/env, the cell's Node.js versions in
 * /tmp/node-versions, the buildpacks read-only (built-ins at /tmp/buildpacks, the operator's at
 * /tmp/operator-buildpacks); then packs /tmp/app as the droplet and uploads it.
 *
 * Contract: stage() may be called concurrently; builds of one app run one after the other (they
 * share the app's build cache), builds of different apps in parallel.
 */
export class Stager {
  private readonly appQueues = new Map<string, Promise<unknown>>();
  private readonly builtinDir: string;

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly blobs: BlobClient,
    private readonly dataDir: string,
    private readonly containerPrefix: string,
    private readonly logger: Logger,
    private readonly options: StagerOptions = {},
  ) {
    this.builtinDir = options.builtinBuildpacksDir ?? BUILTIN_BUILDPACKS_DIR;
  }

  stage(job: StageJob, say: (line: string) => void): Promise<StageResult> {
    const previous = this.appQueues.get(job.appId) ?? Promise.resolve();
    const next = previous.then(
      () => this.stageNow(job, say),
      () => this.stageNow(job, say),
    );
    this.appQueues.set(job.appId, next);
    void next.finally(() => {
      if (this.appQueues.get(job.appId) === next) this.appQueues.delete(job.appId);
    });
    return next;
  }

  /** Candidates in detection order (or the one the app names), as paths inside the staging container. */
  private async candidates(job: StageJob): Promise<{ paths: string[]; named: boolean } | { error: string }> {
    const { buildpacks, skipped } = await listBuildpacks(this.builtinDir, this.options.buildpacksDir);
    if (skipped.length > 0) this.logger.warn({ skipped, dir: this.options.buildpacksDir }, 'operator-buildpacks-skipped');
    const inContainer = (b: Buildpack) =>
      join(b.source === 'operator' ? STAGING_OPERATOR_BUILDPACKS_MOUNT : STAGING_BUILDPACKS_MOUNT, b.name);
    const requested = job.buildpack?.trim();
    if (requested) {
      const found = findBuildpack(buildpacks, requested);
      return found ? { paths: [inContainer(found)], named: true } : { error: unknownBuildpackMessage(requested, buildpacks) };
    }
    return { paths: buildpacks.map(inContainer), named: false };
  }

  private async stageNow(job: StageJob, say: (line: string) => void): Promise<StageResult> {
    const work = join(this.dataDir, 'staging', job.buildId);
    const appDir = join(work, 'app');
    const outDir = join(work, 'output');
    const envDir = join(work, 'env');
    const cacheDir = join(this.dataDir, 'build-cache', job.appId);
    const nodeVersionsDir = join(this.dataDir, 'node-versions');
    try {
      const candidates = await this.candidates(job);
      if ('error' in candidates) {
        say(` !     ${candidates.error}`);
        return { ok: false, error: candidates.error };
      }
      await rm(work, { recursive: true, force: true });
      for (const dir of [appDir, outDir, envDir]) await mkdir(dir, { recursive: true });
      // Only staging (as vcap) writes inside these two, so owning the top is enough (no chown -R of big
      // caches), unless the top belongs to someone else: a cache from before user namespaces (uid
      // 2000) or from another CELL_USERNS_HOST_ID, which is given to this vcap once, whole.
      const idMapping = this.options.idMapping ?? DEFAULT_ID_MAPPING;
      for (const dir of [cacheDir, nodeVersionsDir]) {
        await mkdir(dir, { recursive: true });
        if ((await stat(dir)).uid !== hostVcapUser(idMapping).uid) await chownTreeToVcap(dir, idMapping);
        else await chownToVcap(dir, idMapping);
      }

      const sourceTar = join(work, 'source.tar');
      await this.blobs.download(job.sourceUrl, sourceTar);
      await run('tar', ['-xf', sourceTar, '-C', appDir]);
      await rm(sourceTar);
      const { files, skipped } = envDirFiles(job.env);
      for (const file of files) await writeFile(join(envDir, file.name), file.value, { mode: 0o600 });
      if (skipped.length > 0) say(`-----> Not in ENV_DIR (not valid variable names): ${skipped.join(', ')}`);
      for (const dir of [appDir, outDir, envDir]) await chownTreeToVcap(dir, idMapping);
      await chownToVcap(work, idMapping);
      // The build's variables: vcap's alone (0600 files, set above), in a dir no one else lists.
      await chmod(envDir, 0o700);

      const operatorDir = this.options.buildpacksDir;
      const operatorMounted = operatorDir !== undefined && (await stat(operatorDir).then((s) => s.isDirectory(), () => false));
      const env: Record<string, string> = {
        HOME: '/tmp/cache/home',
        PATH: '/usr/local/bin:/usr/bin:/bin',
        LANG: 'C.UTF-8',
        STACK: STACK_VERSION,
        MEMORY_LIMIT: `${job.memoryMb}m`,
        PAAS_BUILDPACK_ORDER: candidates.paths.join('\n'),
        PAAS_BUILDPACK_NAMED: candidates.named ? '1' : '0',
        PAAS_ENV_DIR: STAGING_ENV_DIR,
        PAAS_NODE_VERSIONS_DIR: STAGING_NODE_VERSIONS_MOUNT,
      };
      if (this.options.npmRegistry) {
        env.npm_config_registry = this.options.npmRegistry;
        // A cell given a registry of its own (a mirror) fetches every package there, also those a
        // lockfile resolved against another registry; with npm's own registry, npm's default stands.
        if (new URL(this.options.npmRegistry).hostname !== 'registry.npmjs.org') env.npm_config_replace_registry_host = 'always';
      }

      const errors: string[] = [];
      const result = await this.runtime.run(
        {
          id: `${this.containerPrefix}-stg-${job.buildId.replace(/-/g, '').slice(0, 12)}`,
          layers: [],
          command: STAGING_COMMAND,
          cwd: '/tmp/app',
          env,
          user: { uid: VCAP_UID, gid: VCAP_GID },
          memoryMb: job.memoryMb,
          // The app is built in the bind-mounted /tmp/app; the layer only holds scratch files.
          diskMb: 4096,
          pidsLimit: 2048,
          binds: [
            { source: appDir, destination: '/tmp/app', readonly: false },
            { source: outDir, destination: '/tmp/output', readonly: false },
            { source: cacheDir, destination: '/tmp/cache', readonly: false },
            { source: envDir, destination: STAGING_ENV_DIR, readonly: true },
            { source: nodeVersionsDir, destination: STAGING_NODE_VERSIONS_MOUNT, readonly: false },
            { source: this.builtinDir, destination: STAGING_BUILDPACKS_MOUNT, readonly: true },
            ...(operatorMounted ? [{ source: operatorDir, destination: STAGING_OPERATOR_BUILDPACKS_MOUNT, readonly: true }] : []),
          ],
          egress: (this.options.egress ?? new EgressPolicy({})).staging(job.egress),
        },
        {
          timeoutMs: STAGING_TIMEOUT_MS,
          onLine: (line, stream) => {
            say(line);
            if (stream === 'stderr') errors.push(line);
          },
        },
      );
      await pruneNodeVersions(nodeVersionsDir, this.options.nodeVersionsToKeep ?? 3, STAGING_TIMEOUT_MS).catch((error: unknown) =>
        this.logger.warn({ err: error }, 'node-versions-prune-failed'),
      );
      if (result.exitCode !== 0) {
        if (result.exitCode === NO_BUILDPACK_EXIT_CODE) {
          return { ok: false, error: errors.find((e) => e.startsWith('no buildpack detected')) ?? 'no buildpack detected' };
        }
        const why = result.reason === 'oom' ? 'staging ran out of memory' : result.reason === 'timeout' ? 'staging timed out' : '';
        const last = errors.at(-1)?.replace(/^\s*!\s+/, '');
        return { ok: false, error: `build failed (exit ${result.exitCode})${why ? `: ${why}` : ''}${last ? `: ${last}` : ''}` };
      }
      const procfile = await readFile(join(appDir, 'Procfile'), 'utf8').catch(() => undefined);
      const release = await readFile(join(outDir, 'release.yml'), 'utf8').catch(() => '');
      const buildpack = (await readFile(join(outDir, 'buildpack'), 'utf8').catch(() => 'unknown')).trim();
      const startCommand = webStartCommand(procfile, release);
      if (!startCommand) {
        return { ok: false, error: 'no web command: add a Procfile with a "web:" line, or a start script to package.json' };
      }
      const started = Date.now();
      const droplet = join(work, 'droplet.tgz');
      await run('tar', ['--use-compress-program', `gzip -${DROPLET_GZIP_LEVEL}`, '-cf', droplet, '-C', work, 'app']);
      const bytes = (await stat(droplet)).size;
      const size = bytes < 1024 * 1024 ? `${Math.ceil(bytes / 1024)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
      say(`-----> Droplet: ${size} (compressed in ${((Date.now() - started) / 1000).toFixed(1)} s)`);
      await this.blobs.upload(job.dropletUploadUrl, droplet);
      return { ok: true, buildpack, startCommand, processTypes: processTypesOf(procfile, release) };
    } catch (error) {
      this.logger.error({ err: error, build: job.buildId }, 'staging-error');
      return { ok: false, error: (error as Error).message };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
}
