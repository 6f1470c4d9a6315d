import { Inject, Injectable } from '@nestjs/common';
import type { CertificateView, CreateCertificateRequest } from '@paas/contracts';
import type { Actor } from '../auth/actor';
import { AccessService } from '../auth/access.service';
import { EventsService } from '../audit/events.service';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../platform/config/controller-config';
import { DomainException, ErrorCode, notFound } from '../platform/common/domain.exception';
import type { PageRequest } from '../platform/common/pagination';
import { isUuid } from '../platform/common/query-params';
import { AcmeIssuerService } from './acme-issuer.service';
import { candidateDomainNames, domainsOfNames } from './certificate-names.util';
import { CertificateProjectionService } from './certificate-projection.service';
import { checkUpload } from './certificate-upload.util';
import { certificateView } from './certificate-view';
import { CertificatesRepository, type Certificate } from './certificates.repository';
import { LocalCaService } from './local-ca.service';
import { PlatformSecretService } from './platform-secret.service';

/**
 * Certificates of the API. Who may do what, per org (the platform has no org roles, so an org's
 * roles are those its users hold in its spaces): any role in one of the org's spaces lists and
 * reads its certificates; the space admin role in one of them uploads, orders and deletes them;
 * platform admins do everything, including the platform's own certificates for shared domains
 * (org null), which everybody may read. A certificate's org is the org holding its names'
 * domains: every name must be a host of a verified domain of that org.
 */
@Injectable()
export class CertificatesService {
  constructor(
    @Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig,
    private readonly repo: CertificatesRepository,
    private readonly access: AccessService,
    private readonly events: EventsService,
    private readonly secret: PlatformSecretService,
    private readonly acme: AcmeIssuerService,
    private readonly localCa: LocalCaService,
    private readonly projection: CertificateProjectionService,
  ) {}

  private view(cert: Certificate): CertificateView {
    return certificateView(cert, this.config.tls.renewBeforeMs);
  }

  async list(actor: Actor, filter: { orgIds?: string[]; names?: string[] }, page: PageRequest): Promise<{ certificates: CertificateView[]; total: number }> {
    const visibleOrgIds = await this.access.visibleOrgIds(actor);
    const { certificates, total } = await this.repo.list({ visibleOrgIds, ...filter }, page.skip, page.take);
    return { certificates: certificates.map((c) => this.view(c)), total };
  }

  /** The certificate if the actor may see it, else 404. */
  private async find(actor: Actor, id: string): Promise<Certificate> {
    const cert = isUuid(id) ? await this.repo.find(id) : null;
    const visible = cert?.orgId ? await this.access.visibleOrgIds(actor) : undefined;
    if (!cert || (cert.orgId && visible && !visible.includes(cert.orgId))) throw notFound('certificate', id, 'list the certificates you can see with GET /v1/certificates');
    return cert;
  }

  async get(actor: Actor, id: string): Promise<CertificateView> {
    return this.view(await this.find(actor, id));
  }

  async create(actor: Actor, request: CreateCertificateRequest, now = new Date()): Promise<CertificateView> {
    if (request.source === 'acme') {
      this.acme.requireConfigured();
      const names = [...new Set(request.names.map((n) => n.toLowerCase()))];
      const orgId = await this.ownerOf(actor, names, false);
      const cert = await this.repo.createPending(orgId, names);
      await this.events.record(actor, 'certificate-created', this.target(cert), { org_id: orgId, source: 'acme', names });
      return this.view(cert);
    }
    this.secret.requireKey();
    const ca = this.localCa.caCertificate;
    const checked = checkUpload(request.certificate_chain, request.private_key, now, ca ? [ca] : []);
    const orgId = await this.ownerOf(actor, checked.names, true);
    const cert = await this.repo.createIssued(orgId, 'upload', {
      names: checked.names,
      chainPem: checked.chainPem,
      keySealed: this.secret.seal(checked.keyPem),
      issuer: checked.issuer,
      notBefore: checked.notBefore,
      notAfter: checked.notAfter,
    });
    await this.projection.publish(cert, now);
    await this.events.record(actor, 'certificate-created', this.target(cert), { org_id: orgId, source: 'upload', names: cert.names, issuer: cert.issuer, not_after: checked.notAfter.toISOString() });
    return this.view(cert);
  }

  async delete(actor: Actor, id: string): Promise<void> {
    const cert = await this.find(actor, id);
    if (cert.source === 'platform') {
      this.access.requirePlatformAdmin(actor, 'deleting the platform certificate');
      if (this.config.tls.localCaDir) {
        throw new DomainException(ErrorCode.Unprocessable, `certificate ${id} is the platform's own for ${cert.names.join(', ')}, kept by the local CA (PAAS_LOCAL_CA_DIR): the controller would issue it again; unset PAAS_LOCAL_CA_DIR first`);
      }
    }
    await this.requireManager(actor, cert.orgId, `deleting certificate ${id}`);
    if (await this.repo.delete(cert.id)) {
      await this.projection.withdraw(cert.id);
      await this.events.record(actor, 'certificate-deleted', this.target(cert), { org_id: cert.orgId, names: cert.names });
    }
  }

  /**
   * The org a certificate for `names` belongs to (null: shared domains), after checking that the
   * actor may hold one for each name there: 422 for a name outside the domains it may use, 403
   * when its role in that org is too low.
   */
  private async ownerOf(actor: Actor, names: string[], wildcards: boolean): Promise<string | null> {
    const candidates = [...new Set(names.flatMap(candidateDomainNames))];
    const visible = actor.isAdmin ? undefined : ((await this.access.visibleOrgIds(actor)) ?? []);
    const { orgId, byName } = domainsOfNames(names, await this.repo.domainsNamed(candidates, visible), wildcards);
    if (!visible) return orgId;
    for (const [name, domain] of byName) {
      if (domain.orgId === null) {
        throw new DomainException(ErrorCode.CertificateNameRefused, `${name} is on the shared domain ${domain.name}: only platform admins hold certificates for shared domains`, { name });
      }
      if (!visible.includes(domain.orgId)) {
        throw new DomainException(
          ErrorCode.CertificateNameRefused,
          `${name} is on domain ${domain.name}, which another org holds: a certificate may cover only the verified domains of your org`,
          { name },
        );
      }
    }
    await this.requireManager(actor, orgId, `a certificate for ${names.join(', ')}`);
    return orgId;
  }

  /** 403 unless the actor is a platform admin or (org certificates) a space admin in one of the org's spaces. */
  private async requireManager(actor: Actor, orgId: string | null, what: string): Promise<void> {
    if (actor.isAdmin) return;
    if (orgId === null) this.access.requirePlatformAdmin(actor, what);
    const roles = await this.repo.rolesInOrg(actor.userId, orgId!);
    if (!roles.includes('ADMIN')) {
      throw new DomainException(
        ErrorCode.Forbidden,
        `${what} needs the admin role in a space of the org (your roles there: ${[...new Set(roles)].map((r) => r.toLowerCase()).join(', ') || 'none'}): ask a space admin of the org`,
      );
    }
  }

  private target(cert: Certificate) {
    return { type: 'certificate', id: cert.id, name: cert.names[0] ?? cert.id };
  }
}
