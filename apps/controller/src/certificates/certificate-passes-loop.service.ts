import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { EventsService, SYSTEM_ACTOR } from '../audit/events.service';
import { LeaderElectionService } from '../convergence/leader-election.service';
import { LOGGER, type Logger } from '../platform/config/config.module';
import { PeriodicPass } from '../platform/common/periodic-pass';
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
  private readonly loops: PeriodicPass[];

  constructor(
    @Inject(LOGGER) logger: Logger,
    private readonly leader: LeaderElectionService,
    private readonly repo: CertificatesRepository,
    private readonly projection: CertificateProjectionService,
    private readonly localCa: LocalCaService,
    private readonly acme: AcmeOrdersService,
    private readonly events: EventsService,
  ) {
    const onLeader = (pass: () => Promise<unknown>) => async () => {
      if (await this.leader.tryLead()) await pass();
    };
    this.loops = [
      new PeriodicPass(onLeader(() => this.projectionPass()), 'certificate-projection-failed', logger),
      new PeriodicPass(onLeader(() => this.acme.pass(() => this.leader.tryLead())), 'certificate-acme-pass-failed', logger),
    ];
  }

  onApplicationBootstrap(): void {
    for (const loop of this.loops) loop.start(CERTIFICATE_PASS_INTERVAL_MS);
  }

  onModuleDestroy(): void {
    for (const loop of this.loops) loop.stop();
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
