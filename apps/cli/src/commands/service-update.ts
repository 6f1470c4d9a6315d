import type { Command } from 'commander';
import { UsageError, type Context } from '../context';
import { getServiceInstance, waitForServiceOperation } from './service-instances';

/**
 * `update-service NAME -p PLAN` (Cloud Foundry's name): resizes a managed instance to another plan
 * of its offering (its data stays; the disk never shrinks) and follows the update until it ended;
 * `--backup-retention N` sets how many scheduled backups are kept.
 */
export function registerServiceUpdate(program: Command, ctx: Context): void {
  program
    .command('update-service <name>')
    .description('resize a service instance to another plan of its offering (its data stays; waits until done), or set its backup retention')
    .option('-p, --plan <plan>', 'the new plan (paas marketplace -e OFFERING lists them); the disk can grow, never shrink')
    .option('--backup-retention <n>', 'how many scheduled backups to keep, 0-100')
    .option('--no-wait', 'return once the API accepted the resize, without following it')
    .action(async (name: string, o: { plan?: string; backupRetention?: string; wait: boolean }) => {
      if (o.plan === undefined && o.backupRetention === undefined) throw new UsageError('say what to change: -p PLAN and/or --backup-retention N');
      let retention: number | undefined;
      if (o.backupRetention !== undefined) {
        if (!/^\d{1,3}$/.test(o.backupRetention) || Number(o.backupRetention) > 100) {
          throw new UsageError(`--backup-retention must be a whole number of backups, 0-100 (got "${o.backupRetention}")`);
        }
        retention = Number(o.backupRetention);
      }
      const instance = await getServiceInstance(ctx, name);
      const changes = { ...(o.plan !== undefined ? { plan: o.plan } : {}), ...(retention !== undefined ? { backup_retention: retention } : {}) };
      const answer = await (await ctx.api()).updateServiceInstance(instance.id, changes);
      if (retention !== undefined) ctx.print(`service ${answer.name} keeps ${answer.backup_retention} scheduled backups`);
      if (o.plan === undefined) return;
      const resizing = answer.last_operation.type === 'update' && answer.last_operation.state === 'in progress';
      if (!resizing) return ctx.print(`service ${answer.name} has plan ${answer.plan} already: nothing to change`);
      if (!o.wait) return ctx.print(`updating service ${answer.name} to plan ${o.plan}: paas service ${answer.name} shows when it is done`);
      const done = await waitForServiceOperation(ctx, answer, 'update');
      ctx.print(`updated service ${answer.name} to plan ${done?.plan ?? o.plan}`);
    });
}
