import { Inject, Injectable } from '@nestjs/common';
import { X509Certificate } from 'node:crypto';
import { EventsService, SYSTEM_ACTOR } from '../audit/events.service';
import { LOGGER, type Logger } from '../platform/config/config.module';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../platform/config/controller-config';
import { certificateNames, distinguishedName, pemBlocks, servedChain } from './certificate-pem.util';
import { CertificateProjectionService } from './certificate-projection.service';
import { CertificatesRepository, type Certificate } from './certificates.repository';
import { AcmeIssuerService } from './acme-issuer.service';
import { PlatformSecretService } from './platform-secret.service';

const MAX_ERROR_CHARS = 1000;

/** Delay before the next attempt after `attempts` failures: base·2^(attempts−1), at most cap. */
export function retryDelayMs(attempts: number, baseMs: number, capMs: number): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, Math.min(attempts - 1, 30)));
}

/**
 * The leader's ACME work (certificates with source `acme`): orders the pending ones, renews the
 * issued ones within PAAS_CERT_RENEW_BEFORE_S of expiry, retries failed ones with backoff
 * (PAAS_ACME_RETRY_BASE_S doubling, at most 6 h). Certificates are ordered one after another, so
 * never two orders at once for one certificate in this replica; only the convergence leader runs
 * the pass, and it checks it still leads before each order (`stillLeading`).
 */
@Injectable()
export class AcmeOrdersService {
  constructor(
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    private readonly repo: CertificatesRepository,
    private readonly issuer: AcmeIssuerService,
    private readonly secret: PlatformSecretService,
    private readonly projection: CertificateProjectionService,
    private readonly events: EventsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Orders every certificate due at `now`; returns how many were attempted. */
  async pass(stillLeading: () => Promise<boolean>, now: () => Date = () => new Date()): Promise<number> {
    if (!this.config.tls.acme.directoryUrl || !this.secret.configured) return 0;
    const at = now();
    const due = await this.repo.acmeDue(at, new Date(at.getTime() + this.config.tls.renewBeforeMs));
    let attempted = 0;
    for (const cert of due) {
      if (!(await stillLeading())) break;
      await this.orderOne(cert, now);
      attempted++;
    }
    return attempted;
  }

  /** One order for one certificate; records the result (never throws for an ACME failure). */
  async orderOne(cert: Certificate, now: () => Date = () => new Date()): Promise<void> {
    const renewal = cert.chainPem !== null;
    try {
      const issued = await this.issuer.order(cert.names);
      const certs = pemBlocks(issued.chainPem).map((pem) => new X509Certificate(pem));
      const leaf = certs[0];
      if (!leaf) throw new Error('the ACME server returned no certificate');
      const updated = await this.repo.recordIssued(cert.id, {
        names: certificateNames(leaf).length ? certificateNames(leaf) : cert.names,
        chainPem: servedChain(certs),
        keySealed: this.secret.seal(issued.keyPem),
        issuer: distinguishedName(leaf.issuer),
        notBefore: leaf.validFromDate,
        notAfter: leaf.validToDate,
      });
      if (!updated) return; // deleted while it was ordered
      await this.projection.publish(updated, now());
      const type = renewal ? 'certificate-renewed' : 'certificate-issued';
      await this.events.record(SYSTEM_ACTOR, type, this.target(updated), { org_id: updated.orgId, names: updated.names, not_after: leaf.validToDate.toISOString(), issuer: updated.issuer });
      this.logger.info({ event: type, certificate_id: cert.id, names: cert.names, not_after: leaf.validToDate.toISOString() }, type);
    } catch (error) {
      await this.recordFailure(cert, error, now());
    }
  }

  private async recordFailure(cert: Certificate, error: unknown, at: Date): Promise<void> {
    const detail = (error instanceof Error ? error.message : String(error)).trim().slice(0, MAX_ERROR_CHARS) || 'the ACME order failed without a reason';
    const attempts = cert.attempts + 1;
    const next = new Date(at.getTime() + retryDelayMs(attempts, this.config.tls.acme.retryBaseMs, this.config.tls.acme.retryCapMs));
    // A certificate still valid keeps being served (state issued) while its renewal is retried.
    const stillValid = cert.chainPem !== null && cert.notAfter !== null && cert.notAfter > at;
    const state = stillValid ? 'issued' : cert.chainPem !== null ? 'expired' : 'failed';
    await this.repo.recordFailure(cert.id, state, detail, attempts, next);
    await this.events.record(SYSTEM_ACTOR, 'certificate-failed', this.target(cert), { org_id: cert.orgId, names: cert.names, error: detail, attempts, next_attempt_at: next.toISOString() });
    this.logger.warn({ event: 'certificate-failed', certificate_id: cert.id, names: cert.names, attempts, next_attempt_at: next.toISOString(), error: detail }, 'certificate-failed');
  }

  private target(cert: Certificate) {
    return { type: 'certificate', id: cert.id, name: cert.names[0] ?? cert.id };
  }
}
