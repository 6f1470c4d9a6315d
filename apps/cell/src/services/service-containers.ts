import { join } from 'node:path';
import { SERVICE_CONTAINER_PORT, type StartServiceJob } from '@paas/contracts';
import { VCAP_GID, VCAP_UID, type ContainerSpec } from '@paas/runtime';
import type { ServiceRecord } from './service-registry';
import { SERVERS } from './service-servers';

/** Size of a service container's own writable layer (its /tmp; the data lives on the volume). */
const SERVER_ROOT_DISK_MB = 64;
/** Processes and threads of a server's container: postgres forks one per connection (100 by default). */
const SERVER_PIDS_LIMIT = 512;

/** The labels that mark a container as a service's (recover hands them to the service manager). */
export const SERVICE_LABEL = 'serviceInstanceId';
const ROLE_LABEL = 'serviceRole';

/**
 * Container ids of an instance's server (`<prefix>-s<id without dashes>`) and of its one-off init
 * (`-i`): at most 24 + 2 + 32 characters, within the runtime's 60.
 */
export function serviceContainerIds(prefix: string, serviceInstanceId: string): { server: string; init: string } {
  const compact = serviceInstanceId.replace(/-/g, '');
  return { server: `${prefix}-s${compact}`, init: `${prefix}-i${compact}` };
}

/** Where the server's output goes: `<servicesDir>/logs/<id>.log` and `.err.log` (root's; the error of a crash quotes its tail). */
export function serviceLogDir(servicesDir: string): string {
  return join(servicesDir, 'logs');
}

/** True for the server container (not the init) of the instance the labels name. */
export function isServerContainer(labels: Record<string, string>): boolean {
  return labels[ROLE_LABEL] === 'server';
}

interface SpecInput {
  prefix: string;
  record: ServiceRecord;
  /** The volume's host path (bound at /data, read-write). */
  dataDir: string;
  logFiles: { out: string; err: string };
}

/** What server and init share: the vcap user, the volume at /data, the plan's memory, no egress at all. */
function baseSpec(input: SpecInput, id: string, command: string[], role: string): ContainerSpec {
  const job: StartServiceJob = input.record.job;
  return {
    id,
    layers: [],
    command,
    cwd: '/data',
    env: { HOME: '/home/vcap', PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' },
    user: { uid: VCAP_UID, gid: VCAP_GID },
    memoryMb: job.memoryMb,
    diskMb: SERVER_ROOT_DISK_MB,
    pidsLimit: SERVER_PIDS_LIMIT,
    binds: [{ source: input.dataDir, destination: '/data', readonly: false }],
    logFile: input.logFiles.out,
    errorLogFile: input.logFiles.err,
    labels: { [SERVICE_LABEL]: job.serviceInstanceId, [ROLE_LABEL]: role, kind: job.kind, spaceId: job.spaceId },
    // It answers connections and reaches nothing itself.
    egress: { rules: [] },
  };
}

/** The server's container: its port DNAT'ed from the instance's host port, reached only by bound apps (service: true). */
export function serverSpec(input: SpecInput): ContainerSpec {
  const job = input.record.job;
  return {
    ...baseSpec(input, serviceContainerIds(input.prefix, job.serviceInstanceId).server, SERVERS[job.kind].command(job), 'server'),
    containerPort: SERVICE_CONTAINER_PORT[job.kind],
    hostPort: input.record.hostPort,
    service: true,
  };
}

/** The one-off container that initialises the data (initdb); undefined when the kind needs none. */
export function initSpec(input: SpecInput): ContainerSpec | undefined {
  const job = input.record.job;
  const command = SERVERS[job.kind].initCommand?.(job);
  return command && baseSpec(input, serviceContainerIds(input.prefix, job.serviceInstanceId).init, command, 'init');
}
