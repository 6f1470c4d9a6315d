import { formatCpu } from '@paas/contracts';
import type { ManifestApp, ManifestProcess, ManifestRoute } from '@paas/manifest';
import { fqdnOf } from '../../routing/route-projection.service';

/**
 * The pure half of applying a manifest: which domain a route is on, what a process becomes,
 * whether every process has a command, and the lines that tell the pusher what was applied.
 */

export interface KnownDomain {
  id: string;
  name: string;
  /** null: shared by every org. */
  orgId: string | null;
  /** null: an org's own domain whose control is not verified yet (no routes on it). */
  verifiedAt?: Date | null;
}

/** A manifest route on one of the platform's domains. */
export interface ResolvedRoute {
  domainId: string;
  domainName: string;
  host: string;
  path: string;
  /** host.domain/path */
  url: string;
  /** Its key path in the manifest, for messages. */
  key: string;
}

/**
 * Splits a route's fully qualified host into host + domain on a domain the app's org may use: the
 * longest matching domain wins (the whole name, host ''), as on Cloud Foundry; else the first label
 * is the host. A message says why when no domain fits.
 */
export function resolveRoute(route: ManifestRoute, domains: KnownDomain[], appOrgId: string): ResolvedRoute | string {
  const byName = new Map(domains.map((d) => [d.name, d]));
  const usable = (d: KnownDomain) => d.orgId === null || d.orgId === appOrgId;
  const whole = byName.get(route.fqdn);
  const dot = route.fqdn.indexOf('.');
  const parent = dot > 0 ? byName.get(route.fqdn.slice(dot + 1)) : undefined;
  let pick: { domain: KnownDomain; host: string } | undefined;
  if (whole && usable(whole) && whole.orgId !== null) pick = { domain: whole, host: '' };
  else if (parent && usable(parent)) pick = { domain: parent, host: route.fqdn.slice(0, dot) };
  if (!pick) {
    if (whole && whole.orgId === null) {
      return `${route.fqdn} is a shared domain: a route on it needs a host, like myapp.${route.fqdn}`;
    }
    if ((whole && !usable(whole)) || (parent && !usable(parent))) {
      return `the domain of ${route.route} is private to another org: use a shared domain or one of your org's (GET /v1/domains)`;
    }
    const names = domains.filter(usable).map((d) => d.name);
    return `no domain of this platform matches ${route.route}: use a route on ${names.length ? names.join(', ') : 'a domain'} (GET /v1/domains), or ask an admin to add the domain`;
  }
  return {
    domainId: pick.domain.id,
    domainName: pick.domain.name,
    host: pick.host,
    path: route.path,
    url: fqdnOf(pick.host, pick.domain.name) + route.path,
    key: route.key,
  };
}

/** A process row's fields, as far as a manifest touches them. */
export interface ProcessFields {
  instances: number;
  memoryMb: number;
  diskMb: number;
  /** null: no CPU quota. */
  cpuMillicores: number | null;
  command: string | null;
  healthCheckType: 'PORT' | 'HTTP' | 'PROCESS';
  healthCheckEndpoint: string | null;
  healthCheckTimeoutS: number;
}

/**
 * The fields a manifest changes on a process, only those that differ (`current` undefined: a new
 * process, given what a new one starts with). A new process type named by the manifest gets 1 instance unless it says
 * otherwise (Cloud Foundry's default); an http check without an endpoint keeps the current one,
 * else checks `/`; a check of another type drops the endpoint.
 */
export function processChanges(type: string, settings: ManifestProcess, current: ProcessFields | undefined): Partial<ProcessFields> {
  const out: Partial<ProcessFields> = {};
  if (settings.instances !== undefined) out.instances = settings.instances;
  else if (!current) out.instances = 1;
  if (settings.memoryMb !== undefined) out.memoryMb = settings.memoryMb;
  if (settings.diskMb !== undefined) out.diskMb = settings.diskMb;
  if (settings.cpuMillicores !== undefined) out.cpuMillicores = settings.cpuMillicores;
  if (settings.command !== undefined) out.command = settings.command;
  if (settings.healthCheckTimeoutS !== undefined) out.healthCheckTimeoutS = settings.healthCheckTimeoutS;
  if (settings.healthCheckType !== undefined) {
    out.healthCheckType = settings.healthCheckType.toUpperCase() as ProcessFields['healthCheckType'];
    out.healthCheckEndpoint = settings.healthCheckType === 'http' ? (settings.healthCheckEndpoint ?? current?.healthCheckEndpoint ?? '/') : null;
  } else if (settings.healthCheckEndpoint !== undefined) {
    out.healthCheckEndpoint = settings.healthCheckEndpoint;
  } else if (!current) {
    out.healthCheckType = type === 'web' ? 'PORT' : 'PROCESS';
  }
  if (current) {
    // Only what differs: a re-push of the same manifest writes nothing.
    for (const key of Object.keys(out) as Array<keyof ProcessFields>) if (out[key] === current[key]) delete out[key];
  }
  return out;
}

/**
 * Process types the manifest names that would have no command: neither in the manifest, nor set
 * on the process, nor in the Procfile (or from the buildpack). Empty when all is well.
 */
export function commandlessTypes(app: ManifestApp, processTypes: Record<string, string>, commands: Record<string, string | null>): string[] {
  const out: string[] = [];
  for (const [type, settings] of Object.entries(app.processes)) {
    const command = settings.command === undefined ? (commands[type] ?? processTypes[type]) : (settings.command ?? processTypes[type]);
    if (!command) {
      out.push(
        `${settings.path}: process type ${type} has no command: give it a command in the manifest, or add a "${type}:" line to the Procfile`,
      );
    }
  }
  return out;
}

/** The commands of the release: the droplet's, plus the manifest's for types the Procfile does not have. */
export function releaseProcessTypes(app: ManifestApp | undefined, dropletTypes: Record<string, string>): Record<string, string> {
  const out = { ...dropletTypes };
  for (const [type, settings] of Object.entries(app?.processes ?? {})) {
    if (!out[type] && settings.command) out[type] = settings.command;
  }
  return out;
}

const size = (mb: number) => (mb % 1024 === 0 ? `${mb / 1024}G` : `${mb}M`);

/** `web 3 instances, 256M, disk 1G, cpu 0.5, http check /health (90 s), command "node server.js"` */
export function describeProcess(type: string, s: ManifestProcess): string {
  const parts: string[] = [];
  if (s.instances !== undefined) parts.push(`${s.instances} instance${s.instances === 1 ? '' : 's'}`);
  if (s.memoryMb !== undefined) parts.push(size(s.memoryMb));
  if (s.diskMb !== undefined) parts.push(`disk ${size(s.diskMb)}`);
  if (s.cpuMillicores !== undefined) parts.push(s.cpuMillicores === null ? 'no cpu quota' : `cpu ${formatCpu(s.cpuMillicores)}`);
  if (s.healthCheckType !== undefined || s.healthCheckEndpoint !== undefined || s.healthCheckTimeoutS !== undefined) {
    const kind = s.healthCheckType ?? 'health';
    const endpoint = s.healthCheckEndpoint ? ` ${s.healthCheckEndpoint}` : '';
    const timeout = s.healthCheckTimeoutS !== undefined ? ` (${s.healthCheckTimeoutS} s)` : '';
    parts.push(`${kind} check${endpoint}${timeout}`);
  }
  if (s.command !== undefined) parts.push(s.command === null ? 'the Procfile command' : `command "${s.command}"`);
  return parts.length ? `${type} ${parts.join(', ')}` : type;
}

/** A host for random-route: the app's name and a few random letters, still one DNS label. */
export function randomHost(appName: string, random: () => number = Math.random): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const suffix = Array.from({ length: 6 }, () => letters[Math.floor(random() * letters.length)]).join('');
  return `${appName.slice(0, 63 - suffix.length - 1).replace(/-+$/, '')}-${suffix}`;
}
