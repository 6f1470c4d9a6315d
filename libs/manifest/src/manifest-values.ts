import { z } from 'zod';
import { formatSizeMb, parseCpuMillicores, parseSizeMb, PROCESS_LIMITS, PROCESS_TYPE_PATTERN, routePathProblem, showValue } from '@paas/contracts';

/**
 * The values a manifest may hold, each with the rule a message names: sizes with units, the
 * process settings' schemas, and one route. Pure; manifest.ts walks the YAML and applies them.
 */

export const rule = (text: string) => (issue: { input?: unknown }) => `${text} (got ${showValue(issue.input)})`;

function sizeSchema(limits: { min: number; max: number }) {
  return z.unknown().transform((value, ctx) => {
    const mb = parseSizeMb(value);
    if (typeof mb === 'string') {
      ctx.addIssue({ code: 'custom', message: mb });
      return z.NEVER;
    }
    if (mb < limits.min || mb > limits.max) {
      ctx.addIssue({ code: 'custom', message: `must be from ${formatSizeMb(limits.min)} to ${formatSizeMb(limits.max)} (got ${showValue(value)})` });
      return z.NEVER;
    }
    return mb;
  });
}

const L = PROCESS_LIMITS;
const INSTANCES_RULE = rule(`must be a whole number from ${L.instances.min} to ${L.instances.max}`);
const TIMEOUT_RULE = rule(`must be a whole number of seconds from ${L.healthCheckTimeoutS.min} to ${L.healthCheckTimeoutS.max}`);
const COMMAND_RULE = rule(`must be a command (a string of 1 to ${L.commandMaxChars} characters), or null for the Procfile's or the buildpack's command`);
const ENDPOINT_RULE = rule('must be a path starting with /, like /health');
const BOOLEAN_RULE = rule('must be true or false');

export const schemas = {
  instances: z.int({ error: INSTANCES_RULE }).min(L.instances.min, { error: INSTANCES_RULE }).max(L.instances.max, { error: INSTANCES_RULE }),
  memory: sizeSchema(L.memoryMb),
  disk_quota: sizeSchema(L.diskMb),
  cpu: z.unknown().transform((value, ctx) => {
    if (value === null) return null;
    const millicores = parseCpuMillicores(value);
    if (typeof millicores === 'string') {
      ctx.addIssue({ code: 'custom', message: `${millicores}; or null for no quota` });
      return z.NEVER;
    }
    return millicores;
  }),
  timeout: z
    .int({ error: TIMEOUT_RULE })
    .min(L.healthCheckTimeoutS.min, { error: TIMEOUT_RULE })
    .max(L.healthCheckTimeoutS.max, { error: TIMEOUT_RULE }),
  command: z.string({ error: COMMAND_RULE }).min(1, { error: COMMAND_RULE }).max(L.commandMaxChars, { error: COMMAND_RULE }).nullable(),
  'health-check-type': z
    .string({ error: rule('must be one of port, http, process') })
    .transform((s) => s.toLowerCase())
    .pipe(z.enum(['port', 'http', 'process', 'none'], { error: rule('must be one of port, http, process') })),
  'health-check-http-endpoint': z.string({ error: ENDPOINT_RULE }).max(1024, { error: ENDPOINT_RULE }).startsWith('/', { error: ENDPOINT_RULE }),
  boolean: z.boolean({ error: BOOLEAN_RULE }),
  name: z.string({ error: rule('must be the app name, a string') }),
  type: z
    .string({ error: rule('must be a process type like worker') })
    .regex(PROCESS_TYPE_PATTERN, { error: rule('must be a process type like worker: a-z, 0-9, "_" and "-", at most 63 characters') }),
  buildpackName: z
    .string({ error: rule('must be a buildpack name, like nodejs') })
    .refine((s) => !/:\/\/|^git@/.test(s), {
      error: rule("buildpacks from URLs are not supported: name one of the platform's buildpacks (nodejs, static, procfile, or one your operator installed)"),
    })
    .pipe(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, { error: rule('must be a buildpack name, like nodejs') })),
};

const ROUTE_RULE = 'must be a route HOST.DOMAIN[/PATH], like myapp.apps.example.com or myapp.apps.example.com/api';
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** One `{route: ...}` entry; a message when it is not a route this platform can serve. */
export function parseManifestRoute(value: unknown): { fqdn: string; path: string; route: string } | string {
  if (typeof value !== 'string') return `${ROUTE_RULE} (got ${showValue(value)})`;
  const text = value.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return `write the route without a scheme, like myapp.apps.example.com/api (got ${showValue(value)})`;
  const slash = text.indexOf('/');
  const hostPart = (slash < 0 ? text : text.slice(0, slash)).toLowerCase();
  const path = slash < 0 ? '' : text.slice(slash);
  if (hostPart.includes(':')) return `TCP routes (host:port) are not supported: give HOST.DOMAIN[/PATH] (got ${showValue(value)})`;
  if (hostPart.startsWith('*.')) return `wildcard routes are not supported: give one host (got ${showValue(value)})`;
  const labels = hostPart.split('.');
  if (!hostPart || hostPart.length > 253 || !labels.every((l) => LABEL.test(l))) return `${ROUTE_RULE} (got ${showValue(value)})`;
  // The same rule as the routes API: the path in the one normal form the router matches on.
  const pathProblem = routePathProblem(path);
  if (pathProblem) return `${pathProblem} (got ${showValue(value)})`;
  return { fqdn: hostPart, path, route: hostPart + path };
}
