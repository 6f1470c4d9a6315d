import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { LOGGER, type Logger } from '../platform/config/config.module';
import { ServiceBackupsPass } from '../services/service-backups-pass.service';
import { ServiceProvisioningService } from '../services/service-provisioning.service';
import { LeaderElectionService } from './leader-election.service';
import { LeaderPasses } from './leader-passes';

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
  private readonly passes: LeaderPasses;

  constructor(@Inject(LOGGER) logger: Logger, leader: LeaderElectionService, provisioning: ServiceProvisioningService, backups: ServiceBackupsPass) {
    this.passes = new LeaderPasses(leader, logger, [
      { run: () => provisioning.pass(), failedEvent: 'service-provisioning-failed' },
      { run: () => backups.pass(), failedEvent: 'service-backups-pass-failed' },
    ]);
  }

  onApplicationBootstrap(): void {
    this.passes.start(SERVICE_PASS_INTERVAL_MS);
  }

  onModuleDestroy(): void {
    this.passes.stop();
  }
}
