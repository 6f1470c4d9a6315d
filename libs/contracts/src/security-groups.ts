import { z } from 'zod';

/**
 * Application security groups, as Cloud Foundry has them: named sets of egress rules that platform
 * admins bind to spaces for running and/or staging containers, or enable platform-wide. The cell
 * turns the rules of a container's space (the running set for instances and tasks, the staging set
 * for builds) into iptables rules; anything no rule allows is refused.
 */

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The address as a 32-bit number, or undefined when it is not a dotted IPv4 address (no leading zeros). */
export function ipv4ToNumber(address: string): number | undefined {
  const match = IPV4.exec(address);
  if (!match) return undefined;
  const parts = match.slice(1);
  if (parts.some((o) => Number(o) > 255 || (o.length > 1 && o.startsWith('0')))) return undefined;
  return parts.reduce((n, o) => n * 256 + Number(o), 0);
}

/** The problem with a destination (address, CIDR or range), or undefined when it is valid. */
export function destinationProblem(destination: string): string | undefined {
  const range = destination.split('-');
  if (range.length === 2) {
    const [low, high] = range.map((a) => ipv4ToNumber(a.trim()));
    if (low === undefined || high === undefined) return `destination "${destination}" is not a range of two IPv4 addresses like 10.0.0.1-10.0.0.9`;
    if (low > high) return `destination range "${destination}" ends before it starts`;
    return undefined;
  }
  const [address, bits, ...rest] = destination.split('/');
  if (rest.length > 0 || ipv4ToNumber(address ?? '') === undefined) {
    return `destination "${destination}" is not an IPv4 address, CIDR (10.0.0.0/8) or range (10.0.0.1-10.0.0.9)`;
  }
  if (bits !== undefined && !(/^\d{1,2}$/.test(bits) && Number(bits) <= 32)) return `destination "${destination}" has a prefix length outside 0-32`;
  return undefined;
}

/** The problem with a ports string ("443", "80,443", "8000-9000"), or undefined when it is valid. */
export function portsProblem(ports: string): string | undefined {
  const parts = ports.split(',').map((p) => p.trim());
  if (parts.length > 32) return `ports "${ports}" lists more than 32 entries: use a range`;
  for (const part of parts) {
    const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part);
    const low = Number(match?.[1]);
    const high = match?.[2] === undefined ? low : Number(match[2]);
    if (!match || low < 1 || high > 65535 || low > high) {
      return `ports "${ports}": "${part}" is not a port (1-65535) or a range like 8000-9000`;
    }
  }
  return undefined;
}

export const SECURITY_GROUP_PROTOCOLS = ['tcp', 'udp', 'icmp', 'all'] as const;

/**
 * One rule: `destination` (an IPv4 address, CIDR or `low-high` range), `protocol`, for tcp/udp
 * `ports` ("443", "80,443", "8000-9000"; unset: every port), for icmp `type`/`code` (unset:
 * every type), and an optional `description`.
 */
export const securityGroupRuleSchema = z
  .strictObject({
    protocol: z.enum(SECURITY_GROUP_PROTOCOLS, { error: 'protocol must be one of tcp, udp, icmp, all' }),
    destination: z.string({ error: 'destination is required: an IPv4 address, a CIDR like 10.0.0.0/8 or a range like 10.0.0.1-10.0.0.9' }),
    ports: z.string({ error: 'ports must be a string like "443", "80,443" or "8000-9000"' }).optional(),
    type: z.number({ error: 'type must be an ICMP type (0-255)' }).int().min(0).max(255).optional(),
    code: z.number({ error: 'code must be an ICMP code (0-255)' }).int().min(0).max(255).optional(),
    description: z.string().max(255, { error: 'description is at most 255 characters' }).optional(),
  })
  .superRefine((rule, ctx) => {
    const problem = (message: string, path: string) => ctx.addIssue({ code: 'custom', message, path: [path] });
    const destination = destinationProblem(rule.destination);
    if (destination) problem(destination, 'destination');
    if (rule.ports !== undefined) {
      if (rule.protocol !== 'tcp' && rule.protocol !== 'udp') problem(`ports apply to tcp and udp only, not to ${rule.protocol}: remove ports or use tcp/udp`, 'ports');
      else {
        const ports = portsProblem(rule.ports);
        if (ports) problem(ports, 'ports');
      }
    }
    if ((rule.type !== undefined || rule.code !== undefined) && rule.protocol !== 'icmp') problem('type and code apply to icmp only', 'type');
    if (rule.code !== undefined && rule.type === undefined) problem('an icmp code needs a type', 'code');
  });
export type SecurityGroupRule = z.infer<typeof securityGroupRuleSchema>;

/** At most this many rules per group (each becomes iptables rules in every container of its spaces). */
export const MAX_SECURITY_GROUP_RULES = 100;

export const securityGroupRulesSchema = z
  .array(securityGroupRuleSchema, { error: 'rules must be a list of rules ({protocol, destination, ports?})' })
  .max(MAX_SECURITY_GROUP_RULES, { error: `a security group has at most ${MAX_SECURITY_GROUP_RULES} rules` });

export const SECURITY_GROUP_NAME_RULE = 'a security group name is 1-63 characters of a-z, A-Z, 0-9, "-", "_" and "."';
const nameSchema = z
  .string({ error: `name is required: ${SECURITY_GROUP_NAME_RULE}` })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, { error: SECURITY_GROUP_NAME_RULE });

/** Which containers a binding or a default applies to: instances and tasks (running) or builds (staging). */
export const securityGroupLifecycleSchema = z.enum(['running', 'staging'], { error: 'lifecycle must be running or staging' });
export type SecurityGroupLifecycle = z.infer<typeof securityGroupLifecycleSchema>;

const globallyEnabledSchema = z.strictObject({
  running: z.boolean({ error: 'globally_enabled.running must be true or false' }).optional(),
  staging: z.boolean({ error: 'globally_enabled.staging must be true or false' }).optional(),
});

/** POST /v1/security-groups (platform admins). */
export const createSecurityGroupSchema = z.strictObject({
  name: nameSchema,
  rules: securityGroupRulesSchema.default([]),
  /** Applied to every space's running and/or staging containers (the platform defaults). */
  globally_enabled: globallyEnabledSchema.optional(),
});
export type CreateSecurityGroupRequest = z.infer<typeof createSecurityGroupSchema>;

/** PATCH /v1/security-groups/:id (platform admins): what is given is replaced. */
export const updateSecurityGroupSchema = z.strictObject({
  name: nameSchema.optional(),
  rules: securityGroupRulesSchema.optional(),
  globally_enabled: globallyEnabledSchema.optional(),
});
export type UpdateSecurityGroupRequest = z.infer<typeof updateSecurityGroupSchema>;

/** POST /v1/security-groups/:id/{running,staging}-spaces (platform admins). */
export const bindSecurityGroupSchema = z.strictObject({
  space_ids: z.array(z.uuid({ error: 'space_ids must be space ids (UUIDs)' }), { error: 'space_ids must be a list of space ids' }).min(1, { error: 'space_ids lists at least one space' }).max(100),
});
export type BindSecurityGroupRequest = z.infer<typeof bindSecurityGroupSchema>;

export const securityGroupViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  rules: z.array(securityGroupRuleSchema),
  globally_enabled: z.object({ running: z.boolean(), staging: z.boolean() }),
  /** The spaces it is bound to (for a non-admin: only those it can see). */
  running_space_ids: z.array(z.string()),
  staging_space_ids: z.array(z.string()),
  created_at: z.string(),
  updated_at: z.string(),
});
export type SecurityGroupView = z.infer<typeof securityGroupViewSchema>;

/**
 * What a job tells the cell about a container's egress: the rules of every security group that
 * applies to it (its space's bindings for that lifecycle plus the platform defaults), in order.
 */
export const egressRulesSchema = z.array(securityGroupRuleSchema);
export type EgressRules = z.infer<typeof egressRulesSchema>;
