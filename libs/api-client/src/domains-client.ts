import { z } from 'zod';
import {
  certificateViewSchema,
  domainViewSchema,
  paginationSchema,
  routeViewSchema,
  type CertificateView,
  type CreateCertificateRequest,
  type DomainView,
  type RouteView,
  type UpdateRouteRequest,
  type VerifyDomainRequest,
} from '@paas/contracts';
import { query, seg } from './api-transport';
import { ServicesClient } from './services-client';

/** The certificates' list answer, paginated (follow `next`) or whole (no `pagination`). */
const certificateListSchema = z.object({ resources: z.array(certificateViewSchema), pagination: paginationSchema.pick({ next: true }).optional() });

/**
 * Domains, their verification, certificates and the HTTPS settings of routes (docs/https.md): a
 * layer of ApiClient (which extends it), kept apart so each file stays one concern; use it
 * through ApiClient. Domains and certificates are named by id. Private keys are sent, never read
 * back: no answer holds one.
 */
export class DomainsClient extends ServicesClient {
  /** Every domain you may use: the shared ones and the private ones of your orgs, by name. */
  domains(filter: { names?: string[]; orgIds?: string[] } = {}): Promise<DomainView[]> {
    return this.listAll(domainViewSchema, '/v1/domains', { names: filter.names, org_ids: filter.orgIds });
  }

  domain(id: string): Promise<DomainView> {
    return this.call(domainViewSchema, 'GET', `/v1/domains/${seg(id)}`);
  }

  /**
   * A shared domain (platform admins), or a private one of `org_id` (its org managers): a private
   * domain stays `pending` until verifyDomain proves control of it. Not safe to repeat: a second
   * call is a 409 (the name is taken).
   */
  createDomain(domain: { name: string; org_id?: string }): Promise<DomainView> {
    return this.call(domainViewSchema, 'POST', '/v1/domains', domain);
  }

  /**
   * Checks now that the domain serves its token (`http`: at its verification URL, through the
   * router; `dns`: as its TXT record). The answer's `verification.state` says whether it is
   * verified, and `last_error` why not. Safe to repeat.
   */
  verifyDomain(id: string, method: VerifyDomainRequest['method'] = 'http'): Promise<DomainView> {
    return this.call(domainViewSchema, 'POST', `/v1/domains/${seg(id)}/verify`, { method });
  }

  async deleteDomain(id: string): Promise<void> {
    await this.call(z.unknown(), 'DELETE', `/v1/domains/${seg(id)}`);
  }

  /** The certificates you may see (of the orgs in `orgIds`, and the platform's own), every page. */
  async certificates(filter: { orgIds?: string[]; names?: string[] } = {}): Promise<CertificateView[]> {
    const all: CertificateView[] = [];
    let next: string | null = `/v1/certificates${query({ org_ids: filter.orgIds, names: filter.names })}`;
    while (next) {
      const page: z.infer<typeof certificateListSchema> = await this.call(certificateListSchema, 'GET', next);
      all.push(...page.resources);
      next = page.pagination?.next?.href ?? null;
    }
    return all;
  }

  certificate(id: string): Promise<CertificateView> {
    return this.call(certificateViewSchema, 'GET', `/v1/certificates/${seg(id)}`);
  }

  /** A PEM chain (leaf first, then intermediates) and its private key, validated by the controller (422 with the reason). */
  uploadCertificate(chain: string, key: string): Promise<CertificateView> {
    const body: CreateCertificateRequest = { source: 'upload', certificate_chain: chain, private_key: key };
    return this.call(certificateViewSchema, 'POST', '/v1/certificates', body);
  }

  /** An ACME order for `names` (HTTP-01 through the router): answered `pending`; poll `certificate` until issued or failed. */
  requestCertificate(names: string[]): Promise<CertificateView> {
    const body: CreateCertificateRequest = { source: 'acme', names };
    return this.call(certificateViewSchema, 'POST', '/v1/certificates', body);
  }

  async deleteCertificate(id: string): Promise<void> {
    await this.call(z.unknown(), 'DELETE', `/v1/certificates/${seg(id)}`);
  }

  /** The HTTPS settings of one route: redirect HTTP to HTTPS, HSTS max-age (null: none). Safe to repeat. */
  updateRoute(id: string, change: UpdateRouteRequest): Promise<RouteView> {
    return this.call(routeViewSchema, 'PATCH', `/v1/routes/${seg(id)}`, change);
  }
}
