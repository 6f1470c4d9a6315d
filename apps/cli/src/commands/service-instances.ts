import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, type ApiClient } from '@paas/api-client';
import type { ServiceInstanceView, ServiceOperationView } from '@paas/contracts';
import { CliError, type Context } from '../context';
import type { Cell } from '../ui/table';

/**
 * What the service commands share: finding an instance by the name a user typed (in the targeted
 * space), how its status and last operation read, and following a create or delete to its end.
 */

/** The instance named (or with the id) `name`, looked up in the targeted space when there is one; a CliError saying how to find it when there is none. */
export async function getServiceInstance(ctx: Context, name: string): Promise<ServiceInstanceView> {
  const target = await ctx.target();
  try {
    return await (await ctx.api()).serviceInstance(name, target?.space?.id);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      const where = target?.space ? ` in ${target.org?.name ?? '?'}/${target.space.name}` : '';
      throw new CliError(`no service ${name}${where}: paas services lists them (${error.message})`);
    }
    throw error;
  }
}

/** "create succeeded", "delete in progress: stopping the server". Pure. */
export function describeOperation(op: ServiceOperationView): string {
  return `${op.type} ${op.state}${op.description ? `: ${op.description}` : ''}`;
}

/** The status column: the server's status, or "-" while it is being created or deleted. */
export function statusCell(ctx: Context, instance: ServiceInstanceView): Required<Cell> {
  const status = instance.status ?? '-';
  const style = status === 'available' ? ctx.color.green : status === 'starting' ? ctx.color.yellow : status === '-' ? ctx.color.dim : ctx.color.red;
  return { text: status, style };
}

/** The last-operation column: "create succeeded" (without its description, which `service NAME` shows). */
export function operationCell(ctx: Context, op: ServiceOperationView): Cell {
  const style = op.state === 'failed' ? ctx.color.red : op.state === 'in progress' ? ctx.color.yellow : undefined;
  return { text: `${op.type} ${op.state}`, style };
}

/** The space id `create-service --space` means: a space you see, by id, or by name (in the targeted org when there is one). */
export async function spaceIdFor(ctx: Context, api: ApiClient, space: string): Promise<string> {
  const org = (await ctx.target())?.org;
  const spaces = await api.spaces();
  const byId = spaces.find((s) => s.id === space);
  if (byId) return byId.id;
  const named = spaces.filter((s) => s.name === space && (!org || s.org_id === org.id));
  if (named.length === 0) throw new CliError(`no space ${space}${org ? ` in org ${org.name}` : ''}: paas spaces lists them`);
  if (named.length > 1) throw new CliError(`several orgs have a space ${space}: give its id, or target the org first with paas target -o ORG`);
  return named[0].id;
}

const POLL_MS = 500;

/**
 * Follows the create, update or delete the instance's last operation is about, polling it by id
 * every half second with a spinner that shows the operation, until it ends: the instance once a
 * create or update succeeded, undefined once a deleted instance is gone. A CliError with the API's description
 * when it failed, and one saying how to follow it after `timeoutMs`.
 */
export async function waitForServiceOperation(ctx: Context, instance: ServiceInstanceView, type: 'create' | 'update' | 'delete', timeoutMs = 10 * 60_000): Promise<ServiceInstanceView | undefined> {
  const api = await ctx.api();
  const label = `${type === 'create' ? 'creating' : type === 'update' ? 'updating' : 'deleting'} service ${instance.name}`;
  const spinner = ctx.spinner(`${label}: ${describeOperation(instance.last_operation)}`);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      let current: ServiceInstanceView;
      try {
        current = await api.serviceInstance(instance.id);
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) {
          if (type === 'delete') return undefined;
          throw new CliError(`${label}: it is gone (deleted meanwhile?): paas services lists the services`);
        }
        throw error;
      }
      const op = current.last_operation;
      if (op.type === type && op.state === 'succeeded' && type !== 'delete') return current;
      if (op.type === type && op.state === 'failed') {
        const next =
          type === 'create' ? `delete it with paas delete-service ${current.name} and create it again`
          : type === 'update' ? `it keeps plan ${current.plan}; see paas service ${current.name}`
          : `see paas service ${current.name}`;
        throw new CliError(`${label}: it failed: ${op.description ?? 'no reason given'}; ${next}`);
      }
      spinner.update(`${label}: ${describeOperation(op)}`);
      if (Date.now() > deadline) {
        throw new CliError(`${label}: still ${describeOperation(op)} after ${Math.round(timeoutMs / 1000)} s: follow it with paas service ${current.name}`);
      }
      await sleep(POLL_MS);
    }
  } finally {
    spinner.stop();
  }
}
