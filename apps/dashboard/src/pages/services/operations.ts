import { ApiError, type ApiClient } from '@paas/api-client';
import type { ServiceBackupView, ServiceInstanceView } from '@paas/contracts';

/** How often an action that started an asynchronous operation asks how it goes, and for how long at most. */
const POLL_MS = 1_500;
const GIVE_UP_MS = 15 * 60_000;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An operation the dashboard stopped waiting for: the page keeps showing its state as the API reports it. */
export class StillInProgress extends Error {}

/**
 * Polls the instance until its last_operation is no longer in progress and answers the instance
 * (undefined when it is gone: a delete that finished). A failed operation is an Error with the
 * API's description, so an action shows it as its error. It asks for the space's list rather than
 * the instance, so that the end of a delete is not a 404 (which the browser would log as an error).
 */
export async function settledInstance(api: ApiClient, instance: Pick<ServiceInstanceView, 'id' | 'space_id'>): Promise<ServiceInstanceView | undefined> {
  const deadline = Date.now() + GIVE_UP_MS;
  for (;;) {
    const now = (await api.serviceInstances({ spaceId: instance.space_id })).find((i) => i.id === instance.id);
    if (!now) return undefined;
    const op = now.last_operation;
    if (op.state === 'failed') throw Object.assign(new Error(`${op.type} failed: ${op.description ?? 'no reason given'}`), { code: `${op.type}-failed` });
    if (op.state === 'succeeded') return now;
    if (Date.now() > deadline) throw new StillInProgress(`${op.type} of ${now.name} is still in progress: its card shows when it ends`);
    await pause(POLL_MS);
  }
}

/** Polls the instance's backups until `backupId` is no longer in progress; a failed one is an Error with its error. */
export async function settledBackup(api: ApiClient, instanceId: string, backupId: string): Promise<ServiceBackupView> {
  const deadline = Date.now() + GIVE_UP_MS;
  for (;;) {
    const backup = (await api.serviceBackups(instanceId)).find((b) => b.id === backupId);
    if (!backup) throw new Error('the backup is gone (deleted while it ran)');
    if (backup.state === 'failed') throw Object.assign(new Error(`backup failed: ${backup.error ?? 'no reason given'}`), { code: 'backup-failed' });
    if (backup.state === 'succeeded') return backup;
    if (Date.now() > deadline) throw new StillInProgress('the backup is still in progress: the list shows when it ends');
    await pause(POLL_MS);
  }
}

/** A 404 of the backups endpoint itself (the API predates backups), not of an instance. */
function backupsUnsupported(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404 && error.message.startsWith('no such API endpoint');
}

/** API bases whose controller has no backups endpoint: asked once, then not again while the page lives. */
const unsupported = new Set<string>();

/** The instance's backups, newest first, or 'unsupported' when the API has no backups endpoint. */
export async function backupsOf(api: ApiClient, apiUrl: string, instanceId: string): Promise<ServiceBackupView[] | 'unsupported'> {
  if (unsupported.has(apiUrl)) return 'unsupported';
  try {
    return await api.serviceBackups(instanceId);
  } catch (error) {
    if (!backupsUnsupported(error)) throw error;
    unsupported.add(apiUrl);
    return 'unsupported';
  }
}

/** "1.2 s", "850 ms", "2m 5s". */
export function formatMs(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const s = Math.round(ms / 1_000);
  return `${Math.floor(s / 60)}m ${s % 60}s`;
}
