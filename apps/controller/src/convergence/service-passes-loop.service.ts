import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { LOGGER, type Logger } from '../platform/config/config.module';
import { PeriodicPass } from '../platform/common/periodic-pass';
import { ServiceBackupsPass } from '../services/service-backups-pass.service';
import { ServiceProvisioningService } from '../services/service-provisioning.service';
import { LeaderElectionService } from './leader-election.service';

/** How often the leader runs each services pass (as often as a convergence pass); the backup schedule itself is SERVICE_BACKUP_INTERVAL_S. */
export const SERVICE_PASS_INTERVAL_MS = 2_000;

/**
 * Runs the services' passes on the convergence leader only, each every SERVICE_PASS_INTERVAL_MS
 * and one at a time, apart from each other (a long backups pass never holds up provisioning):
 * - provisioning (services/service-provisioning.service.ts): creates, updates, deletes, brokers'
 *   operations, created instances kept started;
 * - backups (services/service-backups-pass.service.ts): restores in progress, scheduled backups
 *   and their retention.
 */
@Injectable()
export class ServicePassesLoop implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly loops: PeriodicPass[];

  constructor(
    @Inject(LOGGER) logger: Logger,
    private readonly leader: LeaderElectionService,
    provisioning: ServiceProvisioningService,
    backups: ServiceBackupsPass,
  ) {
    const onLeader = (pass: () => Promise<void>) => async () => {
      if (await this.leader.tryLead()) await pass();
    };
    this.loops = [
      new PeriodicPass(onLeader(() => provisioning.pass()), 'service-provisioning-failed', logger),
      new PeriodicPass(onLeader(() => backups.pass()), 'service-backups-pass-failed', logger),
    ];
  }

  onApplicationBootstrap(): void {
    for (const loop of this.loops) loop.start(SERVICE_PASS_INTERVAL_MS);
  }

  onModuleDestroy(): void {
    for (const loop of this.loops) loop.stop();
  }
}
