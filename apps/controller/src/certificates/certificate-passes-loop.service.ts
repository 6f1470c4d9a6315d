import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { EventsService, SYSTEM_ACTOR } from '../audit/events.service';
import { LeaderElectionService } from '../convergence/leader-election.service';
import { LeaderPasses } from '../convergence/leader-passes';
import { LOGGER, type Logger } from '../platform/config/config.module';
import { AcmeOrdersService } from './acme-orders.service';
import { CertificateProjectionService } from './certificate-projection.service';
import { CertificatesRepository } from './certificates.repository';
import { LocalCaService } from './local-ca.service';

/** How often the leader runs each certificates pass. */
export const CERTIFICATE_PASS_INTERVAL_MS = 2_000;

/**
 * The certificates' passes, on the convergence leader only, each one at a time and apart from
 * the other (a slow ACME order never holds up the projection):
 * - projection: marks certificates past not_after `expired` (and withdraws them), keeps the local
 *   CA's platform certificate fresh, and repairs the Redis hash (a Redis that lost its data gets
 *   every certificate back);
 * - ACME: orders, renewals and retries (AcmeOrdersService).
 */
@Injectable()
export class CertificatePassesLoop implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly passes: LeaderPasses;

  constructor(
    @Inject(LOGGER) logger: Logger,
    leader: LeaderElectionService,
    private readonly repo: CertificatesRepository,
    private readonly projection: CertificateProjectionService,
    private readonly localCa: LocalCaService,
    private readonly acme: AcmeOrdersService,
    private readonly events: EventsService,
  ) {
    this.passes = new LeaderPasses(leader, logger, [
      { run: () => this.projectionPass(), failedEvent: 'certificate-projection-failed' },
      { run: () => this.acme.pass(() => leader.tryLead()), failedEvent: 'certificate-acme-pass-failed' },
    ]);
  }

  onApplicationBootstrap(): void {
    this.passes.start(CERTIFICATE_PASS_INTERVAL_MS);
  }

  onModuleDestroy(): void {
    this.passes.stop();
  }

  async projectionPass(now = new Date()): Promise<void> {
    for (const cert of await this.repo.expire(now)) {
      await this.projection.withdraw(cert.id);
      await this.events.record(SYSTEM_ACTOR, 'certificate-expired', { type: 'certificate', id: cert.id, name: cert.names[0] ?? cert.id }, { org_id: cert.orgId, names: cert.names, not_after: cert.notAfter?.toISOString() ?? null });
    }
    await this.localCa.ensurePlatformCertificate(now);
    await this.projection.reconcile(now);
  }
}
