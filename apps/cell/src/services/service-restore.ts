import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { RestoreServiceJob } from '@paas/contracts';
import { discardAside, putBack, putSnapshotInPlace, verifySnapshot, type Owner } from './redis-restore';

/**
 * The service manager's hold on one instance's server while a restore replaces its data (no
 * other update or restore runs meanwhile, and a crash is not restarted by the backoff).
 */
export interface HeldServer {
  /** Stops it on purpose (after any start or crash in progress). */
  stop(): Promise<void>;
  /** Starts it; resolves once that start ended (running, crashed or failed). */
  start(): Promise<void>;
  /** Starts it and waits until it serves its protocol: undefined when it does, else why not. */
  startServing(): Promise<string | undefined>;
  running(): boolean;
  /** Mounts its volume (when it is not) and returns the host path of its /data. */
  dataDir(): Promise<string>;
}

export interface RestoreDeps {
  /** Where the download goes (root's; `restores/` of the services dir). */
  downloadDir: string;
  download(url: string, file: string, options: { maxBytes?: number; mode?: number }): Promise<void>;
  /** The containers' vcap user on the host (the restored files are its). */
  owner: Owner;
  logger: Logger;
}

/**
 * restore-service of a Redis instance (docs/services.md "Resize and restore"): downloads and checks
 * the backup while the server runs (a wrong one changes nothing), stops the server, puts the
 * snapshot in place and starts it; once it serves, the old data goes. When it does not, the old
 * data is put back, the server started on it, and this throws saying why.
 */
export async function restoreRedisSnapshot(job: RestoreServiceJob, server: HeldServer, deps: RestoreDeps): Promise<void> {
  const snapshot = join(deps.downloadDir, `${job.serviceInstanceId}-${job.backupId}.rdb`);
  await mkdir(deps.downloadDir, { recursive: true, mode: 0o700 });
  try {
    await deps.download(job.backupUrl, snapshot, { maxBytes: job.sizeBytes, mode: 0o600 });
    await verifySnapshot(snapshot, job.sizeBytes, job.sha256);
    await server.stop();
    const dataDir = await server.dataDir();
    const aside = await putSnapshotInPlace(dataDir, snapshot, deps.owner).catch(async (error: Error) => {
      await server.start();
      throw new Error(`the snapshot could not be put in place (${error.message}): not restored, the data is as it was`);
    });
    const problem = await server.startServing();
    const log = { service: job.serviceInstanceId, backup: job.backupId };
    if (problem === undefined) {
      await discardAside(aside);
      deps.logger.info(log, 'service-restored');
      return;
    }
    deps.logger.warn({ ...log, problem }, 'service-restore-failed');
    await server.stop();
    await putBack(dataDir, aside);
    await server.start();
    throw new Error(`the server did not run on the backup's snapshot (${problem}): not restored, its old data is back${server.running() ? ' and served' : ''}`);
  } finally {
    await rm(snapshot, { force: true });
  }
}
