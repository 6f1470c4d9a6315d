import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { EventsService, SYSTEM_ACTOR } from '../audit/events.service';
import { LOGGER, type Logger } from '../platform/config/config.module';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../platform/config/controller-config';
import { certificateNames, distinguishedName, issuedBy } from './certificate-pem.util';
import { CertificateProjectionService } from './certificate-projection.service';
import { CertificatesRepository, type Certificate } from './certificates.repository';
import { ensureLocalCa, issueLocalCertificate, type LocalCa } from './local-ca';
import { PlatformSecretService } from './platform-secret.service';

/**
 * The platform's own HTTPS out of the box (PAAS_LOCAL_CA_DIR set): at boot the local CA is made
 * when missing, and a `platform` certificate for `*.<apps domain>` and `<apps domain>` issued by
 * it is kept: issued when there is none, when it is within the renewal window or when it was
 * issued by another CA; published for the routers. The leader's pass calls `ensurePlatformCertificate`
 * too, so a controller that runs for a year renews it. Two replicas doing it at once may issue
 * two; both then keep the one that expires last and delete the other.
 */
@Injectable()
export class LocalCaService implements OnApplicationBootstrap {
  private ca?: LocalCa;
  private caX509?: X509Certificate;

  constructor(
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    private readonly repo: CertificatesRepository,
    private readonly secret: PlatformSecretService,
    private readonly projection: CertificateProjectionService,
    private readonly events: EventsService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** The local CA's certificate, trusted as a root for uploads; undefined when there is none. */
  get caCertificate(): X509Certificate | undefined {
    return this.caX509;
  }

  async onApplicationBootstrap(): Promise<void> {
    const dir = this.config.tls.localCaDir;
    if (!dir) return;
    this.ca = await ensureLocalCa(dir);
    this.caX509 = new X509Certificate(this.ca.certificatePem);
    const caFile = join(dir, 'ca.pem');
    this.logger.info(
      { event: this.ca.created ? 'local-ca-created' : 'local-ca-loaded', ca_file: caFile },
      `HTTPS of the apps domain is signed by the platform's local CA: trust ${caFile} (e.g. curl --cacert ${caFile} https://NAME.${this.config.appsDomain}:8443/)`,
    );
    const current = await this.ensurePlatformCertificate();
    if (current) await this.projection.publish(current);
  }

  /** The names of the platform certificate. */
  get names(): string[] {
    return [`*.${this.config.appsDomain}`, this.config.appsDomain];
  }

  /**
   * Keeps a valid platform certificate from the local CA; issues (and publishes) a new one when
   * due. A fresh one is left as it is (the projection pass keeps it published). Returns the
   * current one; undefined without a local CA.
   */
  async ensurePlatformCertificate(now = new Date()): Promise<Certificate | undefined> {
    if (!this.ca || !this.caX509) return undefined;
    const current = await this.repo.platformCertificate(this.names);
    if (current && this.fresh(current, now)) return current;
    const issued = await issueLocalCertificate(this.ca, this.names, now);
    const leaf = new X509Certificate(issued.chainPem);
    const created = await this.repo.createIssued(null, 'platform', {
      names: certificateNames(leaf),
      chainPem: issued.chainPem,
      keySealed: this.secret.seal(issued.keyPem),
      issuer: distinguishedName(leaf.issuer),
      notBefore: leaf.validFromDate,
      notAfter: leaf.validToDate,
    });
    const kept = await this.keepNewest(created);
    await this.projection.publish(kept, now);
    if (kept.id !== created.id) return kept;
    const type = current ? 'certificate-renewed' : 'certificate-issued';
    await this.events.record(SYSTEM_ACTOR, type, { type: 'certificate', id: created.id, name: created.names[0] ?? created.id }, { org_id: null, names: created.names, not_after: leaf.validToDate.toISOString(), issuer: created.issuer });
    this.logger.info({ event: type, certificate_id: created.id, names: created.names, not_after: leaf.validToDate.toISOString() }, type);
    return kept;
  }

  /** Issued by the current CA, and not within the renewal window. */
  private fresh(cert: Certificate, now: Date): boolean {
    if (!cert.chainPem || !cert.notAfter || cert.state !== 'issued') return false;
    if (cert.notAfter.getTime() - this.config.tls.renewBeforeMs <= now.getTime()) return false;
    try {
      return issuedBy(new X509Certificate(cert.chainPem), this.caX509!);
    } catch {
      return false;
    }
  }

  /** Of the platform certificates for these names, keeps the one that expires last (ties: the greatest id); deletes and withdraws the others. */
  private async keepNewest(created: Certificate): Promise<Certificate> {
    const all = [created, ...(await this.repo.otherPlatformCertificates(created.id, this.names))];
    all.sort((a, b) => (b.notAfter?.getTime() ?? 0) - (a.notAfter?.getTime() ?? 0) || (b.id > a.id ? 1 : -1));
    const [keep, ...rest] = all;
    for (const old of rest) {
      await this.repo.delete(old.id);
      await this.projection.withdraw(old.id);
    }
    return keep!;
  }
}
