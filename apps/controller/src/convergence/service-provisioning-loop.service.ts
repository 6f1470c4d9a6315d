import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { LOGGER, type Logger } from '../platform/config/config.module';
import { PeriodicPass } from '../platform/common/periodic-pass';
import { ServiceProvisioningService } from '../services/service-provisioning.service';
import { LeaderElectionService } from './leader-election.service';

/** How often the leader runs the provisioning pass (as often as a convergence pass by default). */
export const SERVICE_PASS_INTERVAL_MS = 2_000;

/**
 * Runs the services' provisioning pass (services/service-provisioning.service.ts) on the
 * convergence leader only, every SERVICE_PASS_INTERVAL_MS, one pass at a time.
 */
@Injectable()
export class ServiceProvisioningLoop implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly loop: PeriodicPass;

  constructor(
    @Inject(LOGGER) logger: Logger,
    private readonly leader: LeaderElectionService,
    private readonly provisioning: ServiceProvisioningService,
  ) {
    this.loop = new PeriodicPass(async () => {
      if (await this.leader.tryLead()) await this.provisioning.pass();
    }, 'service-provisioning-failed', logger);
  }

  onApplicationBootstrap(): void {
    this.loop.start(SERVICE_PASS_INTERVAL_MS);
  }

  onModuleDestroy(): void {
    this.loop.stop();
  }
}
