import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { LOGGER, type Logger } from '../platform/config/config.module';
import { PeriodicPass } from '../platform/common/periodic-pass';
import { ServiceBackupsPass } from '../services/service-backups-pass.service';
import { LeaderElectionService } from './leader-election.service';

/** How often the leader runs the backups pass: restores are carried on this often; the schedule itself is SERVICE_BACKUP_INTERVAL_S. */
export const SERVICE_BACKUPS_PASS_INTERVAL_MS = 2_000;

/**
 * Runs the service backups pass (services/service-backups-pass.service.ts: restores in progress,
 * scheduled backups and their retention) on the convergence leader only, one pass at a time.
 */
@Injectable()
export class ServiceBackupsLoop implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly loop: PeriodicPass;

  constructor(
    @Inject(LOGGER) logger: Logger,
    private readonly leader: LeaderElectionService,
    private readonly backups: ServiceBackupsPass,
  ) {
    this.loop = new PeriodicPass(async () => {
      if (await this.leader.tryLead()) await this.backups.pass();
    }, 'service-backups-pass-failed', logger);
  }

  onApplicationBootstrap(): void {
    this.loop.start(SERVICE_BACKUPS_PASS_INTERVAL_MS);
  }

  onModuleDestroy(): void {
    this.loop.stop();
  }
}
