import type { Command } from 'commander';
import type { ApiClient } from '@paas/api-client';
import type { DomainView } from '@paas/contracts';
import { CliError, Context } from '../context';

/** The domain of that name you may use; a CliError saying how to list them when there is none. */
export async function domainNamed(api: ApiClient, name: string): Promise<DomainView> {
  const [domain] = await api.domains({ names: [name.toLowerCase()] });
  if (!domain) throw new CliError(`no domain ${name}: paas domains lists them (a platform admin adds one with paas create-domain, an org manager with paas create-private-domain)`);
  return domain;
}

/** How to prove control of a pending domain: the URL the router serves the token at, the TXT record, the next command. */
export function verificationSteps(domain: DomainView): string[] {
  const v = domain.verification;
  if (v.state === 'verified') return [`${domain.name} is verified: paas map-route APP ${domain.name} --hostname HOST`];
  const lines = [`prove that you control ${domain.name}, one of:`];
  if (v.http_url) lines.push(`  HTTP: point ${domain.name} (DNS A/AAAA or CNAME) at the platform's router; it then serves`, `        ${v.http_url}`, `        with the body ${v.token ?? '(the token)'}`);
  if (v.dns_record) lines.push(`  DNS:  add the record ${v.dns_record.name} ${v.dns_record.type} "${v.dns_record.value}"`);
  lines.push(`then: paas verify-domain ${domain.name}${v.dns_record ? ' [--dns]' : ''}`);
  return lines;
}

export function registerDomains(program: Command, ctx: Context): void {
  program
    .command('domains')
    .description('list the shared domains and the private domains of your orgs, verified or pending')
    .option('--json', 'the domains as the API answers them, as a JSON array')
    .action(async (o: { json?: boolean }) => {
      const api = await ctx.api();
      const domains = await api.domains();
      if (o.json) return ctx.json(domains);
      const orgs = domains.some((d) => d.org_id) ? new Map((await api.orgs()).map((org) => [org.id, org.name])) : new Map<string, string>();
      ctx.table(
        [{ header: 'name', shrink: 1 }, { header: 'type', shrink: 0 }, { header: 'org' }, { header: 'state', shrink: 0 }],
        domains.map((d) => [
          d.name,
          `${d.shared ? 'shared' : 'private'}${d.default ? ' (default)' : ''}`,
          d.org_id ? (orgs.get(d.org_id) ?? d.org_id) : '-',
          d.verification.state === 'verified'
            ? { text: 'verified', style: ctx.color.green }
            : { text: 'pending', style: ctx.color.yellow },
        ]),
      );
      if (domains.some((d) => d.verification.state === 'pending')) ctx.note('a pending domain takes no route or certificate yet: paas verify-domain DOMAIN');
    });

  program
    .command('create-domain <domain>')
    .description('add a domain (platform admin): shared, or private to an org with --org')
    .option('-o, --org <org>', 'the org owning this private domain')
    .option('--json', 'the created domain as JSON')
    .action(async (name: string, o: { org?: string; json?: boolean }) => {
      const api = await ctx.api();
      let orgId: string | undefined;
      if (o.org) {
        const [org] = await api.orgs({ names: [o.org] });
        if (!org) throw new CliError(`no org ${o.org}: paas orgs lists them`);
        orgId = org.id;
      }
      const domain = await api.createDomain({ name, ...(orgId ? { org_id: orgId } : {}) });
      if (o.json) return ctx.json(domain);
      ctx.print(`created ${domain.shared ? 'shared' : `private (org ${o.org})`} domain ${domain.name}: paas map-route APP ${domain.name} --hostname HOST`);
    });

  program
    .command('create-private-domain <org> <domain>')
    .description('add a domain of your own to an org (org manager); it takes routes once verified (paas verify-domain)')
    .option('--json', 'the created domain as JSON')
    .action(async (orgName: string, name: string, o: { json?: boolean }) => {
      const api = await ctx.api();
      const [org] = await api.orgs({ names: [orgName] });
      if (!org) throw new CliError(`no org ${orgName}: paas orgs lists the orgs you are in`);
      const domain = await api.createDomain({ name: name.toLowerCase(), org_id: org.id });
      if (o.json) return ctx.json(domain);
      ctx.print(`created private domain ${domain.name} of org ${org.name} (${domain.verification.state})`);
      for (const line of verificationSteps(domain)) ctx.print(line);
    });

  program
    .command('verify-domain <domain>')
    .description('check now that you control a private domain: its HTTP token (default) or, with --dns, its TXT record')
    .option('--dns', 'check the TXT record _paas-verification.DOMAIN instead of the HTTP token')
    .option('--json', 'the domain after the check, as JSON')
    .action(async (name: string, o: { dns?: boolean; json?: boolean }) => {
      const api = await ctx.api();
      const domain = await domainNamed(api, name);
      const checked = await api.verifyDomain(domain.id, o.dns ? 'dns' : 'http');
      if (o.json) ctx.json(checked);
      if (checked.verification.state !== 'verified') {
        const how = o.dns ? `the TXT record ${checked.verification.dns_record?.name ?? `_paas-verification.${checked.name}`}` : `the token at ${checked.verification.http_url ?? 'its verification URL'}`;
        throw new CliError(`${checked.name} is not verified: ${checked.verification.last_error ?? 'no reason given'} (check ${how}, then run paas verify-domain ${checked.name}${o.dns ? ' --dns' : ''} again)`);
      }
      if (!o.json) ctx.print(`verified ${checked.name}: paas map-route APP ${checked.name} --hostname HOST, then paas enable-ssl HOST.${checked.name}`);
    });

  program
    .command('delete-domain <domain>')
    .description('delete a domain (it must have no routes left); an org manager deletes the org\'s private ones')
    .action(async (name: string) => {
      const api = await ctx.api();
      const domain = await domainNamed(api, name);
      await api.deleteDomain(domain.id);
      ctx.print(`deleted domain ${domain.name}`);
    });
}
