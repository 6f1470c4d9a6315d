import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { LOGGER, type Logger } from '../platform/config/config.module';
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
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly leader: LeaderElectionService,
    private readonly provisioning: ServiceProvisioningService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), SERVICE_PASS_INTERVAL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      if (await this.leader.tryLead()) await this.provisioning.pass();
    } catch (error) {
      this.logger.warn({ err: error }, 'service-provisioning-failed');
    } finally {
      this.running = false;
    }
  }
}
