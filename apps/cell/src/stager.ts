import { chown, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { StageJob, StageResult } from '@paas/contracts';
import {
  BUILTIN_BUILDPACKS_DIR,
  NO_BUILDPACK_EXIT_CODE,
  STAGING_BUILDPACKS_MOUNT,
  STAGING_COMMAND,
  processTypesOf,
  webStartCommand,
} from '@paas/buildpacks';
import { VCAP_GID, VCAP_UID, type ContainerRuntime } from '@paas/runtime';
import type { BlobClient } from './blob-client';
import { run } from './exec';

const STAGING_TIMEOUT_MS = 15 * 60_000;

/**
 * Stages one build in a staging container: source in /tmp/app, the app's build cache in
 * /tmp/cache, the buildpacks read-only; then packs /tmp/app as the droplet and uploads it.
 */
export class Stager {
  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly blobs: BlobClient,
    private readonly dataDir: string,
    private readonly containerPrefix: string,
    private readonly logger: Logger,
  ) {}

  async stage(job: StageJob, say: (line: string) => void): Promise<StageResult> {
    const work = join(this.dataDir, 'staging', job.buildId);
    const appDir = join(work, 'app');
    const outDir = join(work, 'output');
    const cacheDir = join(this.dataDir, 'build-cache', job.appId);
    await rm(work, { recursive: true, force: true });
    await mkdir(appDir, { recursive: true });
    await mkdir(outDir, { recursive: true });
    await mkdir(cacheDir, { recursive: true });
    try {
      const sourceTar = join(work, 'source.tar');
      await this.blobs.download(job.sourceUrl, sourceTar);
      await run('tar', ['-xf', sourceTar, '-C', appDir]);
      await rm(sourceTar);
      for (const dir of [appDir, outDir, cacheDir]) await run('chown', ['-R', `${VCAP_UID}:${VCAP_GID}`, dir]);
      await chown(work, VCAP_UID, VCAP_GID);

      const errors: string[] = [];
      const result = await this.runtime.run(
        {
          id: `${this.containerPrefix}-stg-${job.buildId.replace(/-/g, '').slice(0, 12)}`,
          layers: [],
          command: STAGING_COMMAND,
          cwd: '/tmp/app',
          env: {
            HOME: '/tmp/cache/home',
            PATH: '/usr/local/bin:/usr/bin:/bin',
            LANG: 'C.UTF-8',
            MEMORY_LIMIT: `${job.memoryMb}m`,
          },
          user: { uid: VCAP_UID, gid: VCAP_GID },
          memoryMb: job.memoryMb,
          // The app is built in the bind-mounted /tmp/app; the layer only holds scratch files.
          diskMb: 4096,
          pidsLimit: 2048,
          binds: [
            { source: appDir, destination: '/tmp/app', readonly: false },
            { source: outDir, destination: '/tmp/output', readonly: false },
            { source: cacheDir, destination: '/tmp/cache', readonly: false },
            { source: BUILTIN_BUILDPACKS_DIR, destination: STAGING_BUILDPACKS_MOUNT, readonly: true },
          ],
        },
        {
          timeoutMs: STAGING_TIMEOUT_MS,
          onLine: (line, stream) => {
            say(line);
            if (stream === 'stderr') errors.push(line);
          },
        },
      );
      if (result.exitCode !== 0) {
        if (result.exitCode === NO_BUILDPACK_EXIT_CODE) {
          return { ok: false, error: errors.find((e) => e.startsWith('no buildpack detected')) ?? 'no buildpack detected' };
        }
        const why = result.reason === 'oom' ? 'staging ran out of memory' : result.reason === 'timeout' ? 'staging timed out' : '';
        const last = errors.at(-1);
        return { ok: false, error: `build failed (exit ${result.exitCode})${why ? `: ${why}` : ''}${last ? `: ${last}` : ''}` };
      }
      const procfile = await readFile(join(appDir, 'Procfile'), 'utf8').catch(() => undefined);
      const release = await readFile(join(outDir, 'release.yml'), 'utf8').catch(() => '');
      const buildpack = (await readFile(join(outDir, 'buildpack'), 'utf8').catch(() => 'unknown')).trim();
      const startCommand = webStartCommand(procfile, release);
      if (!startCommand) {
        return { ok: false, error: 'no web command: add a Procfile with a "web:" line, or a start script to package.json' };
      }
      say('-----> Compressing the droplet');
      const droplet = join(work, 'droplet.tgz');
      await run('tar', ['-czf', droplet, '-C', work, 'app']);
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
