import type { Command } from 'commander';
import { CliError, type Context } from '../context';
import { ago, formatMb } from '../ui/format';
import { describeOperation, getServiceInstance, operationCell, spaceIdFor, statusCell, waitForServiceOperation } from './service-instances';

/** Backing services, with Cloud Foundry's command names: the marketplace and service instances (bindings: service-bindings.ts). */
export function registerServices(program: Command, ctx: Context): void {
  program
    .command('marketplace')
    .description('the service offerings you can create instances of, and their plans (-e: one offering\'s plans in detail)')
    .option('-e, --offering <offering>', 'the plans of this offering: memory, disk, free or paid')
    .option('--json', 'the offerings (with -e: the offering) as the API answers them')
    .action(async (o: { offering?: string; json?: boolean }) => {
      const offerings = await (await ctx.api()).serviceOfferings();
      if (o.offering !== undefined) {
        const offering = offerings.find((x) => x.name === o.offering);
        if (!offering) throw new CliError(`no offering ${o.offering} in the marketplace: the offerings are ${offerings.map((x) => x.name).join(', ') || 'none'}`);
        if (o.json) return ctx.json(offering);
        ctx.print(`${offering.name} ${offering.version}: ${offering.description}`);
        ctx.print();
        ctx.table(
          [{ header: 'plan', shrink: 0 }, { header: 'description', shrink: 2 }, { header: 'memory', align: 'right' }, { header: 'disk', align: 'right' }, { header: 'free or paid' }],
          offering.plans.map((p) => [p.name, p.description, formatMb(p.memory_mb), formatMb(p.disk_mb), p.free ? 'free' : 'paid']),
        );
        return ctx.note(`create one with paas create-service ${offering.name} ${offering.plans[0]?.name ?? 'PLAN'} NAME`);
      }
      if (o.json) return ctx.json(offerings);
      if (offerings.length === 0) return ctx.print('the marketplace is empty');
      ctx.table(
        [{ header: 'offering', shrink: 0 }, { header: 'version' }, { header: 'plans' }, { header: 'description', shrink: 2 }, { header: 'broker' }],
        offerings.map((x) => [x.name, x.version, x.plans.map((p) => p.name).join(', '), x.description, x.broker]),
      );
      ctx.note('paas marketplace -e OFFERING shows its plans; paas create-service OFFERING PLAN NAME creates an instance');
    });

  program
    .command('create-service <offering> <plan> <name>')
    .description('create a service instance (a server of its own, on a persistent volume); waits until it is ready')
    .option('-s, --space <space>', 'the space, by name or id (default: the targeted one, else the default space)')
    .option('--no-wait', 'return once the API accepted it, without following the creation')
    .option('--from-backup <backup-id>', 'start with the data of this backup (of an instance of the same offering and space: paas backups NAME)')
    .action(async (offering: string, plan: string, name: string, o: { space?: string; wait: boolean; fromBackup?: string }) => {
      const api = await ctx.api();
      const spaceId = o.space !== undefined ? await spaceIdFor(ctx, api, o.space) : (await ctx.target())?.space?.id;
      const accepted = await api.createServiceInstance({ name, offering, plan, ...(spaceId ? { space_id: spaceId } : {}), ...(o.fromBackup ? { restore_from_backup: o.fromBackup } : {}) });
      const what = `service ${accepted.name} (${accepted.offering} ${accepted.plan}) in ${accepted.org_name}/${accepted.space_name}`;
      if (!o.wait) return ctx.print(`creating ${what}: paas service ${accepted.name} shows when it is ready`);
      await waitForServiceOperation(ctx, accepted, 'create');
      ctx.print(`created ${what}: bind it to an app with paas bind-service APP ${accepted.name}`);
    });

  program
    .command('services')
    .description('list service instances (of the targeted space, if any): status, bound apps, last operation')
    .option('-a, --all', 'every instance you can see, whatever the target')
    .option('--json', 'the instances as the API answers them, as a JSON array')
    .action(async (o: { all?: boolean; json?: boolean }) => {
      const target = o.all ? undefined : await ctx.target();
      const instances = await (await ctx.api()).serviceInstances(target?.space ? { spaceId: target.space.id } : {});
      if (o.json) return ctx.json(instances);
      if (instances.length === 0) {
        return ctx.print(`no services${target?.space ? ` in ${target.org?.name}/${target.space.name}` : ''} yet: paas marketplace lists what you can create`);
      }
      ctx.table(
        [
          { header: 'name', shrink: 0 },
          { header: 'offering' },
          { header: 'plan' },
          { header: 'status', shrink: 0 },
          { header: 'bound apps', shrink: 2 },
          { header: 'last operation' },
          { header: 'space' },
        ],
        instances.map((i) => [i.name, i.offering, i.plan, statusCell(ctx, i), i.bound_apps.join(', ') || '-', operationCell(ctx, i.last_operation), `${i.org_name}/${i.space_name}`]),
      );
    });

  program
    .command('service <name>')
    .description('show a service instance: status (and why it is not available), cell, bound apps, last operation')
    .option('--json', 'the instance as the API answers it')
    .action(async (name: string, o: { json?: boolean }) => {
      const instance = await getServiceInstance(ctx, name);
      if (o.json) return ctx.json(instance);
      const status = statusCell(ctx, instance);
      const op = instance.last_operation;
      const opStyle = operationCell(ctx, op).style ?? ((text: string) => text);
      ctx.fields([
        ['name', instance.name],
        ['id', instance.id],
        ['space', `${instance.org_name}/${instance.space_name}`],
        ['offering', instance.offering],
        ['plan', instance.plan],
        ['status', `${status.style(status.text)}${instance.status_reason ? ` (${instance.status_reason})` : ''}`],
        ['cell', instance.cell_id ?? '-'],
        ['bound apps', instance.bound_apps.join(', ') || `none: paas bind-service APP ${instance.name}`],
        ['last operation', `${opStyle(describeOperation(op))} (${ago(op.updated_at)})`],
        ['created', ago(instance.created_at)],
      ]);
    });

  program
    .command('rename-service <name> <new-name>')
    .description('rename a service instance (bound apps see the new name in VCAP_SERVICES when they restart)')
    .action(async (name: string, newName: string) => {
      const instance = await getServiceInstance(ctx, name);
      const renamed = await (await ctx.api()).renameServiceInstance(instance.id, newName);
      ctx.print(`renamed service ${instance.name} to ${renamed.name}`);
      if (renamed.bound_apps.length > 0) {
        ctx.note(`${renamed.bound_apps.join(', ')} see the new name in VCAP_SERVICES once restarted: paas restart ${renamed.bound_apps[0]}`);
      }
    });

  program
    .command('delete-service <name>')
    .description('delete a service instance and its data (asks first); unbind its apps first')
    .option('-f, --force', 'do not ask (required when not on a terminal)')
    .option('--no-wait', 'return once the API accepted it, without waiting until it is gone')
    .action(async (name: string, o: { force?: boolean; wait: boolean }) => {
      const instance = await getServiceInstance(ctx, name);
      if (!o.force) {
        const yes = await ctx.confirm(`Delete service ${instance.name} (${instance.offering} ${instance.plan}) and all its data?`);
        if (yes === undefined) throw new CliError(`not deleting service ${instance.name}: there is no terminal to ask for confirmation; repeat with -f to delete it without asking`);
        if (!yes) throw new CliError(`service ${instance.name} was not deleted`);
      }
      const accepted = await (await ctx.api()).deleteServiceInstance(instance.id);
      if (!o.wait) return ctx.print(`deleting service ${instance.name}: paas services shows when it is gone`);
      await waitForServiceOperation(ctx, accepted, 'delete');
      ctx.print(`deleted service ${instance.name}`);
    });
}
