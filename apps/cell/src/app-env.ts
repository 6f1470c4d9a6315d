import type { BoundService } from '@paas/contracts';
import { serviceUrlVariables, vcapServices } from './bound-services';

/** What an app's container is told about itself: the Cloud Foundry and Heroku env contract. */
export interface AppEnvInput {
  appId: string;
  appName: string;
  spaceId: string;
  spaceName: string;
  orgName: string;
  uris: string[];
  index: number;
  /** CF_INSTANCE_GUID and VCAP_APPLICATION.instance_id: the instance's (or task's) id. */
  instanceId: string;
  memoryMb: number;
  diskMb: number;
  /** VCAP_APPLICATION.process_type: web, worker, ..., or "release" for the release phase. */
  processType: string;
  /** The app's own variables; those that would override the platform's are dropped. */
  env: Record<string, string>;
  /** The port the app must listen on; unset for one-off tasks (no PORT, no CF_INSTANCE_PORT). */
  port?: number;
  /** The services bound to the app, as its containers reach them (servicesSeenFromContainers). */
  services?: BoundService[];
}

/** Variables the platform sets and an app's own env may not override (the API refuses them too). */
const PLATFORM_VARIABLE = /^(PORT|INSTANCE_INDEX|MEMORY_LIMIT|VCAP_\w+|CF_\w+)$/;

/**
 * The environment of an app container (instance or one-off task): PORT (instances only),
 * INSTANCE_INDEX, CF_INSTANCE_*, MEMORY_LIMIT, VCAP_APPLICATION, VCAP_SERVICES (the bound services),
 * the bound services' URL variables (DATABASE_URL, REDIS_URL) unless the app sets them itself,
 * then the app's own variables. Pure. Instances and one-off tasks both take theirs from here.
 */
export function appEnvironment(input: AppEnvInput): Record<string, string> {
  const vcapApplication = {
    application_id: input.appId,
    application_name: input.appName,
    name: input.appName,
    uris: input.uris,
    application_uris: input.uris,
    instance_index: input.index,
    instance_id: input.instanceId,
    limits: { mem: input.memoryMb, disk: input.diskMb, fds: 16384 },
    process_type: input.processType,
    space_name: input.spaceName,
    space_id: input.spaceId,
    organization_name: input.orgName,
  };
  const port: Record<string, string> = input.port === undefined ? {} : { PORT: String(input.port), CF_INSTANCE_PORT: String(input.port) };
  return {
    HOME: '/home/vcap',
    PATH: '/home/vcap/app/node_modules/.bin:/usr/local/bin:/usr/bin:/bin',
    LANG: 'C.UTF-8',
    NODE_ENV: 'production',
    // npm must not phone home from an app container (update checks, funding notices).
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    ...port,
    INSTANCE_INDEX: String(input.index),
    CF_INSTANCE_INDEX: String(input.index),
    CF_INSTANCE_GUID: input.instanceId,
    MEMORY_LIMIT: `${input.memoryMb}m`,
    VCAP_APPLICATION: JSON.stringify(vcapApplication),
    VCAP_SERVICES: JSON.stringify(vcapServices(input.services ?? [])),
    ...serviceUrlVariables(input.services ?? [], input.env),
    ...Object.fromEntries(Object.entries(input.env).filter(([k]) => !PLATFORM_VARIABLE.test(k))),
  };
}
