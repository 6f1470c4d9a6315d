import type { Command } from 'commander';
import { BUILTIN_OFFERINGS, type ServiceBindingView } from '@paas/contracts';
import type { Context } from '../context';
import { getApp } from './apps';
import { rollOut } from './lifecycle';

/**
 * How the app sees a new binding: always in VCAP_SERVICES (under its offering), and as the
 * offering's URL variable (DATABASE_URL, REDIS_URL) when it is the app's first binding of that
 * offering (the platform gives the variable to the first; `bindings` are all of the app's). Pure.
 */
export function bindingHint(appName: string, binding: ServiceBindingView, bindings: ServiceBindingView[]): string {
  const seen = `${appName} sees ${binding.service_instance_name} in VCAP_SERVICES (under "${binding.offering}")`;
  const variable = BUILTIN_OFFERINGS.find((o) => o.name === binding.offering)?.urlVariable;
  if (!variable) return seen;
  const first = bindings
    .filter((b) => b.offering === binding.offering)
    .reduce<ServiceBindingView>((a, b) => (b.created_at < a.created_at ? b : a), binding);
  if (first.id !== binding.id) return `${seen}; ${variable} stays with ${first.service_instance_name}, its first ${binding.offering} binding`;
  return `${seen} and as ${variable}`;
}

/** bind-service and unbind-service: each rolls out a new release of the app (same droplet and env) with the app's new set of bindings. */
export function registerServiceBindings(program: Command, ctx: Context): void {
  program
    .command('bind-service <app> <service>')
    .description('bind a service instance to an app: new credentials of its own, rolled out in a new release')
    .option('--no-wait', 'do not wait for the deployment')
    .action(async (appName: string, service: string, o: { wait: boolean }) => {
      const api = await ctx.api();
      const app = await getApp(ctx, appName);
      const result = await api.bindService(app.id, service);
      await rollOut(ctx, app.name, `binding ${result.binding.service_instance_name} to ${app.name}`, result, o.wait);
      const hint = bindingHint(app.name, result.binding, await api.serviceBindings(app.id));
      ctx.note(o.wait || !result.deployment_id ? hint : `once v${result.release_version} runs, ${hint}`);
    });

  program
    .command('unbind-service <app> <service>')
    .description('unbind a service instance from an app: its credentials are dropped at once, a release without them rolls out')
    .option('--no-wait', 'do not wait for the deployment')
    .action(async (appName: string, service: string, o: { wait: boolean }) => {
      const app = await getApp(ctx, appName);
      const result = await (await ctx.api()).unbindService(app.id, service);
      await rollOut(ctx, app.name, `unbinding ${service} from ${app.name}`, result, o.wait);
      ctx.note(`${app.name}'s credentials for ${service} were dropped (their sessions ended); delete the service with paas delete-service ${service}`);
    });
}
