import type { BoundService } from '@paas/contracts';
import type { Process } from '../generated/prisma/client';
import type { AppWithSpace } from '../apps/apps.repository';
import type { ReleaseWithDroplet } from '../releases/releases.repository';
import type { InstanceSpec } from '../placement/instances.service';

/** What one process type of a release runs: its command, limits, health check and the app's bound services. Pure. */
export function instanceSpecFor(
  app: AppWithSpace,
  release: ReleaseWithDroplet,
  process: Process,
  dropletUrl: string,
  uris: string[],
  services: BoundService[],
): InstanceSpec | undefined {
  const types = release.processTypes as Record<string, string>;
  const command = process.command ?? types[process.type];
  if (!command) return undefined;
  return {
    appId: app.id,
    appName: app.name,
    spaceId: app.spaceId,
    spaceName: app.space.name,
    orgName: app.space.org.name,
    releaseId: release.id,
    processType: process.type,
    dropletId: release.droplet.id,
    dropletUrl,
    startCommand: command,
    memoryMb: process.memoryMb,
    diskMb: process.diskMb,
    ...(process.cpuMillicores !== null ? { cpuMillicores: process.cpuMillicores } : {}),
    healthCheck: {
      type: process.healthCheckType.toLowerCase() as 'port' | 'http' | 'process',
      ...(process.healthCheckEndpoint ? { endpoint: process.healthCheckEndpoint } : {}),
      timeoutS: process.healthCheckTimeoutS,
    },
    env: release.env as Record<string, string>,
    uris,
    routable: uris.length > 0,
    services,
  };
}
