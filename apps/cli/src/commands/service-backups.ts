import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { ServiceBackupView, ServiceInstanceView } from '@paas/contracts';
import { CliError, type Context } from '../context';
import { ago, formatBytes } from '../ui/format';
import type { Cell } from '../ui/table';
import { describeOperation, getServiceInstance } from './service-instances';

const POLL_MS = 500;
const WAIT_MS = 30 * 60_000;

/** A duration in ms, short: 850ms, 4.2s, 3m10s. Pure. */
export function formatMs(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}

function stateCell(ctx: Context, backup: ServiceBackupView): Cell {
  const style = backup.state === 'succeeded' ? ctx.color.green : backup.state === 'failed' ? ctx.color.red : ctx.color.yellow;
  return { text: backup.state, style };
}

/** Backups of managed service instances (`backups`, `backup`, `delete-backup`) and restores (`restore`); `create-service --from-backup` is in services.ts. */
export function registerServiceBackups(program: Command, ctx: Context): void {
  program
    .command('backups <name>')
    .description('list the backups of a service instance, newest first: trigger, state, size, duration, why one failed')
    .option('--json', 'the backups as the API answers them, as a JSON array')
    .action(async (name: string, o: { json?: boolean }) => {
      const instance = await getServiceInstance(ctx, name);
      const backups = await (await ctx.api()).serviceBackups(instance.id);
      if (o.json) return ctx.json(backups);
      if (backups.length === 0) return ctx.print(`service ${instance.name} has no backups yet: paas backup ${instance.name} makes one`);
      ctx.table(
        [
          { header: 'id', shrink: 0 },
          { header: 'trigger' },
          { header: 'state', shrink: 0 },
          { header: 'size', align: 'right' },
          { header: 'created' },
          { header: 'duration', align: 'right' },
          { header: 'error', shrink: 3 },
        ],
        backups.map((b) => [b.id, b.trigger, stateCell(ctx, b), b.size_bytes === null ? '-' : formatBytes(b.size_bytes), ago(b.created_at), formatMs(b.duration_ms), b.error ?? '']),
      );
      ctx.note(`restore one with paas restore ${instance.name} BACKUP_ID, or into a new instance with paas create-service ${instance.offering} ${instance.plan} NEW_NAME --from-backup BACKUP_ID`);
    });

  program
    .command('backup <name>')
    .description('back up a service instance now (pg_dump or an RDB snapshot, into the blobstore); waits until it is done')
    .option('--no-wait', 'return once the API accepted it, without following the backup')
    .action(async (name: string, o: { wait: boolean }) => {
      const instance = await getServiceInstance(ctx, name);
      const api = await ctx.api();
      const accepted = await api.createServiceBackup(instance.id);
      if (!o.wait) return ctx.print(`backing up service ${instance.name}: backup ${accepted.id}; paas backups ${instance.name} shows when it is done`);
      const done = await waitForBackup(ctx, instance, accepted);
      ctx.print(`backed up service ${instance.name}: backup ${done.id}, ${formatBytes(done.size_bytes ?? 0)} in ${formatMs(done.duration_ms)}`);
      ctx.note(`restore it with paas restore ${instance.name} ${done.id}`);
    });

  program
    .command('restore <name> <backup-id>')
    .description('restore a backup into a service instance, replacing what the backup holds (its sessions are ended); waits until it is done')
    .option('--no-wait', 'return once the API accepted it, without following the restore')
    .action(async (name: string, backupId: string, o: { wait: boolean }) => {
      const instance = await getServiceInstance(ctx, name);
      const accepted = await (await ctx.api()).restoreServiceBackup(instance.id, backupId);
      if (!o.wait) return ctx.print(`restoring backup ${backupId} into service ${instance.name}: paas service ${instance.name} shows when it is done`);
      await waitForRestore(ctx, accepted);
      ctx.print(`restored backup ${backupId} into service ${instance.name}`);
    });

  program
    .command('delete-backup <name> <backup-id>')
    .description('delete a backup of a service instance (a scheduled one would go with the retention anyway)')
    .action(async (name: string, backupId: string) => {
      const instance = await getServiceInstance(ctx, name);
      await (await ctx.api()).deleteServiceBackup(instance.id, backupId);
      ctx.print(`deleted backup ${backupId} of service ${instance.name}`);
    });
}

/** Follows a backup with a spinner until it ends: the backup once it succeeded, a CliError with its error when it failed. */
export async function waitForBackup(ctx: Context, instance: ServiceInstanceView, backup: ServiceBackupView, timeoutMs = WAIT_MS): Promise<ServiceBackupView> {
  const api = await ctx.api();
  const label = `backing up service ${instance.name}`;
  const spinner = ctx.spinner(`${label}: ${backup.state}`);
  const started = Date.now();
  try {
    for (;;) {
      const current = await api.serviceBackup(instance.id, backup.id);
      if (current.state === 'succeeded') return current;
      if (current.state === 'failed') throw new CliError(`${label}: backup ${current.id} failed: ${current.error ?? 'no reason given'}`);
      spinner.update(`${label}: ${current.state} (${Math.round((Date.now() - started) / 1000)}s)`);
      if (Date.now() - started > timeoutMs) throw new CliError(`${label}: still in progress after ${Math.round(timeoutMs / 1000)} s: follow it with paas backups ${instance.name}`);
      await sleep(POLL_MS);
    }
  } finally {
    spinner.stop();
  }
}

/** Follows a restore (the instance's last operation) with a spinner until it ends; a CliError with the API's description when it failed. */
export async function waitForRestore(ctx: Context, instance: ServiceInstanceView, timeoutMs = WAIT_MS): Promise<ServiceInstanceView> {
  const api = await ctx.api();
  const label = `restoring service ${instance.name}`;
  const spinner = ctx.spinner(`${label}: ${describeOperation(instance.last_operation)}`);
  const started = Date.now();
  try {
    for (;;) {
      const current = await api.serviceInstance(instance.id);
      const op = current.last_operation;
      if (op.type !== 'restore') throw new CliError(`${label}: another operation took its place (${describeOperation(op)}): see paas service ${current.name}`);
      if (op.state === 'succeeded') return current;
      if (op.state === 'failed') throw new CliError(`${label}: it failed: ${op.description ?? 'no reason given'}`);
      spinner.update(`${label}: ${describeOperation(op)}`);
      if (Date.now() - started > timeoutMs) throw new CliError(`${label}: still ${describeOperation(op)} after ${Math.round(timeoutMs / 1000)} s: follow it with paas service ${current.name}`);
      await sleep(POLL_MS);
    }
  } finally {
    spinner.stop();
  }
}
