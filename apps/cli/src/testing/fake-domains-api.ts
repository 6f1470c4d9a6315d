/**
 * For the CLI's domains, certificates and route-update specs: that part of the API (docs/https.md,
 * shapes in libs/contracts tls.ts and api.ts) as a small HTTP server on 127.0.0.1, every answer
 * checked against its schema before it is sent. One org `acme` (and `other`); domains, routes and
 * certificates live in their arrays. Scripted by names: verifying a domain whose name starts with
 * `unreachable` by HTTP answers it pending with a last error; DNS verification is refused (422)
 * unless `dnsResolver`; creating a domain held by another org (`held.example.test`) is a 409. An
 * ACME certificate ends after `pollsToEnd` GETs: issued, or failed for a name starting with `fail`.
 * An upload whose key does not contain `GOOD` is refused with the controller's 422. `requests` records
 * every request (method, path with query, body).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import {
  certificateViewSchema,
  domainViewSchema,
  orgViewSchema,
  paginatedSchema,
  routeViewSchema,
  type CertificateView,
  type DomainView,
  type RouteView,
} from '@paas/contracts';
import { TOKEN } from './fake-services-api';

const TIME = '2026-01-01T00:00:00.000Z';
export const ORGS = [
  { id: '00000000-0000-4000-8000-0000000000o1', name: 'acme', created_at: TIME },
  { id: '00000000-0000-4000-8000-0000000000o2', name: 'other', created_at: TIME },
].map((o) => orgViewSchema.parse(o));

type Send = <S extends z.ZodType>(status: number, schema: S, value: z.infer<S>) => void;
type Fail = (status: number, code: string, message: string) => void;

export class FakeDomainsApi {
  readonly requests: Array<{ method: string; path: string; body: unknown }> = [];
  readonly domains: DomainView[] = [];
  readonly routes: RouteView[] = [];
  readonly certificates: CertificateView[] = [];
  /** Whether DNS verification is configured (PAAS_DNS_RESOLVER on the controller). */
  dnsResolver = false;
  pollsToEnd = 2;
  private readonly polls = new Map<string, number>();
  private ids = 0;
  private server?: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  reset(): void {
    for (const list of [this.domains, this.routes, this.certificates, this.requests] as unknown[][]) list.length = 0;
    this.polls.clear();
    this.dnsResolver = false;
    this.pollsToEnd = 2;
    this.seedDomain('apps.localhost', null);
  }

  nextId(): string {
    return `00000000-0000-4000-8000-${String(++this.ids).padStart(12, '0')}`;
  }

  /** A domain; private ones (orgId set) are pending unless `verified`. */
  seedDomain(name: string, orgId: string | null, verified = orgId === null): DomainView {
    const token = verified ? null : `tok-${name.replace(/\W/g, '')}`;
    const view = domainViewSchema.parse({
      id: this.nextId(), name, shared: orgId === null, default: name === 'apps.localhost', org_id: orgId, created_at: TIME,
      verification: {
        state: verified ? 'verified' : 'pending', token,
        http_url: token ? `http://${name}/.well-known/paas-domain-verification/${token}` : null,
        dns_record: token && this.dnsResolver ? { name: `_paas-verification.${name}`, type: 'TXT', value: token } : null,
        verified_at: verified ? TIME : null, last_error: null,
      },
    });
    this.domains.push(view);
    return view;
  }

  seedRoute(host: string, domain: DomainView, path = ''): RouteView {
    const view = routeViewSchema.parse({
      id: this.nextId(), host, path, url: `${host ? `${host}.` : ''}${domain.name}${path}`, domain: { id: domain.id, name: domain.name },
      space_id: 's1', destinations: [], https_redirect: false, hsts_max_age: null, created_at: TIME,
    });
    this.routes.push(view);
    return view;
  }

  seedCertificate(change: Partial<CertificateView> = {}): CertificateView {
    const view = certificateViewSchema.parse({
      id: this.nextId(), org_id: ORGS[0]!.id, source: 'upload', state: 'issued', names: ['www.shop.example.test'], issuer: 'CN=Test CA',
      not_before: TIME, not_after: '2099-01-01T00:00:00.000Z', renews_at: null, last_error: null, next_attempt_at: null, attempts: 0,
      created_at: TIME, updated_at: TIME, ...change,
    });
    this.certificates.push(view);
    return view;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let text = '';
    for await (const chunk of req) text += chunk;
    const url = new URL(req.url ?? '/', 'http://x');
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    this.requests.push({ method: req.method ?? '', path: url.pathname + url.search, body });
    const send: Send = (status, schema, value) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(schema.parse(value)));
    };
    const fail: Fail = (status, code, message) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code, message } }));
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return fail(401, 'unauthorized', 'no such token');
    const page = <S extends z.ZodType>(item: S, items: Array<z.infer<S>>) =>
      send(200, paginatedSchema(item), {
        resources: items,
        pagination: { total_results: items.length, total_pages: 1, first: { href: url.pathname }, last: { href: url.pathname }, next: null, previous: null },
      });
    const csv = (name: string) => url.searchParams.get(name)?.split(',');
    const [, , kind, id, action] = url.pathname.split('/').map(decodeURIComponent);
    const method = req.method ?? 'GET';
    if (kind === 'orgs' && method === 'GET') {
      const names = csv('names');
      return page(orgViewSchema, ORGS.filter((o) => !names || names.includes(o.name)));
    }
    if (kind === 'domains') return this.domainRequest(method, id, action, body, csv, page, send, fail, res);
    if (kind === 'routes' && method === 'GET' && !id) {
      const hosts = csv('hosts');
      const domainIds = csv('domain_ids');
      return page(routeViewSchema, this.routes.filter((r) => (!hosts || hosts.includes(r.host)) && (!domainIds || domainIds.includes(r.domain.id))));
    }
    if (kind === 'routes' && method === 'PATCH' && id) {
      const index = this.routes.findIndex((r) => r.id === id);
      if (index < 0) return fail(404, 'not-found', `no route ${id}`);
      const updated = { ...this.routes[index]!, ...(body as Partial<RouteView>) };
      this.routes[index] = updated;
      return send(200, routeViewSchema, updated);
    }
    if (kind === 'certificates') return this.certificateRequest(method, id, body, send, fail, res);
    fail(404, 'not-found', `the fake API has no ${method} ${url.pathname}`);
  }

  private domainRequest(
    method: string,
    id: string | undefined,
    action: string | undefined,
    body: Record<string, unknown> | undefined,
    csv: (name: string) => string[] | undefined,
    page: <S extends z.ZodType>(item: S, items: Array<z.infer<S>>) => void,
    send: Send,
    fail: Fail,
    res: ServerResponse,
  ): void {
    if (!id && method === 'GET') {
      const names = csv('names');
      return page(domainViewSchema, this.domains.filter((d) => !names || names.includes(d.name)));
    }
    if (!id && method === 'POST') {
      const name = String(body?.name);
      if (name === 'held.example.test') return fail(409, 'domain-taken', `the domain ${name} is held by another org: a domain belongs to one org; choose another, or ask the platform admin`);
      if (this.domains.some((d) => d.name === name)) return fail(409, 'name-taken', `the domain ${name} already exists: use it, or choose another name`);
      return send(201, domainViewSchema, this.seedDomain(name, (body?.org_id as string | undefined) ?? null));
    }
    const index = this.domains.findIndex((d) => d.id === id);
    const domain = this.domains[index];
    if (!domain) return fail(404, 'not-found', `no domain ${id}: list the domains you can use with GET /v1/domains`);
    if (method === 'GET' && !action) return send(200, domainViewSchema, domain);
    if (method === 'DELETE' && !action) {
      if (this.routes.some((r) => r.domain.id === domain.id)) return fail(422, 'unprocessable', `domain ${domain.name} still has 1 route(s): delete them first`);
      this.domains.splice(index, 1);
      res.writeHead(204).end();
      return;
    }
    if (method === 'POST' && action === 'verify') {
      if (body?.method === 'dns' && !this.dnsResolver) {
        return fail(422, 'unprocessable', 'DNS verification is not configured on this platform (PAAS_DNS_RESOLVER is unset): verify by HTTP, or ask the operator to set it');
      }
      const failed = domain.name.startsWith('unreachable');
      const v = domain.verification;
      const checked: DomainView = failed
        ? { ...domain, verification: { ...v, last_error: `${v.http_url} answered 404: point ${domain.name} at the platform's router` } }
        : { ...domain, verification: { ...v, state: 'verified', verified_at: TIME, last_error: null } };
      this.domains[index] = checked;
      return send(200, domainViewSchema, checked);
    }
    fail(404, 'not-found', `the fake API has no ${method} for domains`);
  }

  private certificateRequest(method: string, id: string | undefined, body: Record<string, unknown> | undefined, send: Send, fail: Fail, res: ServerResponse): void {
    const list = z.object({ resources: z.array(certificateViewSchema) });
    if (!id && method === 'GET') return send(200, list, { resources: this.certificates });
    if (!id && method === 'POST') {
      if (body?.source === 'upload') {
        if (!String(body.private_key).includes('GOOD')) return fail(422, 'certificate-invalid', 'the private key does not match the certificate: give the key the certificate was issued for');
        return send(201, certificateViewSchema, this.seedCertificate());
      }
      const names = body?.names as string[];
      const cert = this.seedCertificate({ source: 'acme', state: 'pending', names, issuer: null, not_before: null, not_after: null });
      this.polls.set(cert.id, 0);
      return send(201, certificateViewSchema, cert);
    }
    const index = this.certificates.findIndex((c) => c.id === id);
    const cert = this.certificates[index];
    if (!cert) return fail(404, 'not-found', `no certificate ${id}: paas certs lists them`);
    if (method === 'DELETE') {
      this.certificates.splice(index, 1);
      res.writeHead(204).end();
      return;
    }
    if (method === 'GET') return send(200, certificateViewSchema, this.advance(index, cert));
    fail(404, 'not-found', `the fake API has no ${method} for certificates`);
  }

  private advance(index: number, cert: CertificateView): CertificateView {
    const polls = this.polls.get(cert.id);
    if (polls === undefined) return cert;
    this.polls.set(cert.id, polls + 1);
    if (polls + 1 < this.pollsToEnd) return { ...cert, attempts: 1 };
    this.polls.delete(cert.id);
    const failed = cert.names.some((n) => n.startsWith('fail'));
    const done: CertificateView = failed
      ? { ...cert, state: 'failed', attempts: 1, last_error: `HTTP-01 challenge for ${cert.names[0]} failed: the CA could not connect to 127.0.0.2:80 (connection refused)`, next_attempt_at: '2099-01-01T00:01:00.000Z' }
      : { ...cert, state: 'issued', attempts: 1, issuer: 'CN=Pebble Intermediate CA 0a1b2c', not_before: TIME, not_after: '2099-01-01T00:00:00.000Z' };
    this.certificates[index] = done;
    return done;
  }
}
