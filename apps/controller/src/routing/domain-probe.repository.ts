import { Inject, Injectable } from '@nestjs/common';
import { promises as dns } from 'node:dns';
import { request } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { DOMAIN_VERIFICATION_TXT_LABEL } from '@paas/contracts';
import { CONTROLLER_CONFIG, type ControllerConfig } from '../platform/config/controller-config';
import { verificationPath } from './domain-tokens.repository';

/** What a check found: control proven, or why not, in words for the domain's org. */
export type ProbeOutcome = { ok: true } | { ok: false; reason: string };

/** The whole HTTP check (connect, request, answer) ends after this. */
export const VERIFY_HTTP_TIMEOUT_MS = 5_000;
/** At most this much of the answer is read: a token is 43 characters. */
export const VERIFY_HTTP_MAX_BODY = 4_096;
const DNS_TIMEOUT_MS = 2_000;
const DNS_TRIES = 2;

/** Addresses no router of the platform can have: the HTTP check never connects to them. */
const NEVER_A_ROUTER = new BlockList();
NEVER_A_ROUTER.addSubnet('0.0.0.0', 8, 'ipv4');
NEVER_A_ROUTER.addSubnet('169.254.0.0', 16, 'ipv4'); // link-local, cloud metadata services
NEVER_A_ROUTER.addSubnet('224.0.0.0', 3, 'ipv4'); // multicast, reserved, broadcast
NEVER_A_ROUTER.addAddress('::', 'ipv6');
NEVER_A_ROUTER.addSubnet('fe80::', 10, 'ipv6');
NEVER_A_ROUTER.addSubnet('ff00::', 8, 'ipv6');

/**
 * The network side of domain verification (docs/https.md, "Own domains"): resolve a domain
 * (PAAS_DNS_RESOLVER when set, else the system's resolver), fetch its token over HTTP, read its
 * TXT record. The address fetched is the one the domain's DNS chooses, so the fetch is bounded:
 * one GET of the fixed token path on PAAS_DOMAIN_VERIFY_HTTP_PORT, no redirect followed, at most
 * VERIFY_HTTP_MAX_BODY bytes read within VERIFY_HTTP_TIMEOUT_MS, and what it tells the caller is
 * the status and whether the body was the token, never the body itself.
 */
@Injectable()
export class DomainProbeRepository {
  constructor(@Inject(CONTROLLER_CONFIG) private readonly config: ControllerConfig) {}

  /** The DNS server the operator configured (PAAS_DNS_RESOLVER), if any. */
  get dnsResolver(): string | undefined {
    return this.config.domainVerification.dnsResolver;
  }

  /** Passes when GET http://<domain>/.well-known/paas-domain-verification/<token>, asked of the domain's address, answers 200 with the token. */
  async httpToken(domain: string, token: string): Promise<ProbeOutcome> {
    const url = `http://${domain}${verificationPath(token)}`;
    const resolved = await this.resolve(domain);
    if ('reason' in resolved) return { ok: false, reason: resolved.reason };
    const port = this.config.domainVerification.httpPort;
    const target = `${isIP(resolved.address) === 6 ? `[${resolved.address}]` : resolved.address}:${port}`;
    if (NEVER_A_ROUTER.check(resolved.address, isIP(resolved.address) === 6 ? 'ipv6' : 'ipv4')) {
      return { ok: false, reason: `${domain} resolves to ${resolved.address}, which cannot be an address of the platform's routers: point ${domain} at them, then verify again` };
    }
    let answer: { status: number; body: string };
    try {
      answer = await getCapped(resolved.address, port, domain, verificationPath(token));
    } catch (error) {
      return { ok: false, reason: `${url} could not be fetched from ${target} (${describe(error)}): point ${domain} at the platform's routers, then verify again` };
    }
    if (answer.status !== 200) return { ok: false, reason: `${url} answered ${answer.status} (asked ${target}): point ${domain} at the platform's routers, which serve the token, then verify again` };
    if (answer.body.trim() !== token) return { ok: false, reason: `${url} answered 200 but not with the token (asked ${target}): ${domain} points at a server that is not the platform's router` };
    return { ok: true };
  }

  /** Passes when a TXT record _paas-verification.<domain> holds the token. Call only with a resolver configured. */
  async txtToken(domain: string, token: string): Promise<ProbeOutcome> {
    const name = `${DOMAIN_VERIFICATION_TXT_LABEL}.${domain}`;
    const server = this.dnsResolver;
    let values: string[];
    try {
      values = (await this.resolver().resolveTxt(name)).map((chunks) => chunks.join(''));
    } catch (error) {
      if (isNoAnswer(error)) return { ok: false, reason: `no TXT record ${name} (asked ${server}): add one with the value ${token}, then verify again` };
      return { ok: false, reason: `the DNS server ${server} did not answer for ${name} (${describe(error)}): try again` };
    }
    if (values.some((v) => v.trim() === token)) return { ok: true };
    return { ok: false, reason: `the TXT record ${name} holds ${values.length} value(s), none of them the token (asked ${server}): set its value to ${token}, then verify again` };
  }

  private resolver(): dns.Resolver {
    const resolver = new dns.Resolver({ timeout: DNS_TIMEOUT_MS, tries: DNS_TRIES });
    resolver.setServers([this.dnsResolver!]);
    return resolver;
  }

  private async resolve(domain: string): Promise<{ address: string } | { reason: string }> {
    const via = this.dnsResolver ? `asked ${this.dnsResolver}` : "asked the controller's system resolver";
    const notResolved = (why: string) => ({ reason: `${domain} did not resolve (${via}: ${why}): point it at the platform's routers (an A, AAAA or CNAME record), then verify again` });
    if (!this.dnsResolver) {
      try {
        return { address: (await dns.lookup(domain)).address };
      } catch (error) {
        return notResolved(describe(error));
      }
    }
    const resolver = this.resolver();
    let lastError: unknown;
    for (const lookup of [() => resolver.resolve4(domain), () => resolver.resolve6(domain)]) {
      try {
        const [address] = await lookup();
        if (address) return { address };
      } catch (error) {
        lastError = error;
        if (!isNoAnswer(error)) break;
      }
    }
    return notResolved(lastError ? describe(lastError) : 'no address');
  }
}

function isNoAnswer(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENODATA' || code === 'ENOTFOUND' || code === 'NXDOMAIN';
}

function describe(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.code ?? e.message;
}

/** One GET to `address`:`port` with Host `host`; reads at most VERIFY_HTTP_MAX_BODY bytes of the body; never follows a redirect. */
function getCapped(address: string, port: number, host: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const req = request({
      host: address,
      port,
      path,
      method: 'GET',
      agent: false,
      headers: { host, 'user-agent': 'paas-domain-verification', accept: 'text/plain', connection: 'close' },
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${VERIFY_HTTP_TIMEOUT_MS / 1000} s`)), VERIFY_HTTP_TIMEOUT_MS);
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    req.on('error', (error) => settle(() => reject(error)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => settle(() => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('data', (chunk: Buffer) => {
        const room = VERIFY_HTTP_MAX_BODY - size;
        if (room > 0) chunks.push(chunk.subarray(0, room));
        size += chunk.length;
        if (size >= VERIFY_HTTP_MAX_BODY) {
          done();
          res.destroy();
        }
      });
      res.on('end', done);
      res.on('error', (error) => settle(() => reject(error)));
      res.on('close', done);
    });
    req.end();
  });
}
