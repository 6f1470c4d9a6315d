import { z } from 'zod';

/** Variables the platform sets for every instance; an app may not override them. */
export const RESERVED_ENV = /^(PORT|INSTANCE_INDEX|MEMORY_LIMIT|VCAP_[A-Z_]+|CF_[A-Z_]+)$/;

export const envPatchSchema = z.strictObject({
  var: z
    .record(z.string(), z.union([z.string().max(65_536, { error: 'a value may have at most 65536 characters' }), z.null()], {
      error: 'a value is a string, or null to remove the variable',
    }))
    .superRefine((vars, ctx) => {
      for (const name of Object.keys(vars)) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
          ctx.addIssue({ code: 'custom', path: [name], message: 'variable names are letters, digits and "_", not starting with a digit' });
        } else if (RESERVED_ENV.test(name)) {
          ctx.addIssue({ code: 'custom', path: [name], message: 'PORT, INSTANCE_INDEX, MEMORY_LIMIT, VCAP_* and CF_* are set by the platform' });
        }
      }
    }),
});
export type EnvPatch = z.infer<typeof envPatchSchema>;

/** Applies a patch: a string sets, null removes. Pure. */
export function applyEnvPatch(current: Record<string, string>, patch: EnvPatch['var']): Record<string, string> {
  const next = { ...current };
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete next[name];
    else next[name] = value;
  }
  return next;
}

export const scaleSchema = z
  .strictObject({
    instances: z.number().int().min(0, { error: 'instances must be 0 or more' }).max(500, { error: 'instances must be at most 500' }).optional(),
    memory_mb: z.number().int().min(16, { error: 'memory_mb must be at least 16' }).max(65_536, { error: 'memory_mb must be at most 65536' }).optional(),
    disk_mb: z.number().int().min(64, { error: 'disk_mb must be at least 64' }).max(1_048_576).optional(),
  })
  .refine((s) => s.instances !== undefined || s.memory_mb !== undefined || s.disk_mb !== undefined, {
    error: 'give at least one of instances, memory_mb, disk_mb',
  });
export type ScaleRequest = z.infer<typeof scaleSchema>;

export const processUpdateSchema = z.strictObject({
  command: z.string().min(1).max(4096).nullable().optional(),
  health_check: z
    .strictObject({
      type: z.enum(['port', 'http', 'process'], { error: 'health_check.type is one of port, http, process' }),
      endpoint: z.string().startsWith('/', { error: 'health_check.endpoint is a path starting with /' }).optional(),
      timeout: z.number().int().min(1).max(600, { error: 'health_check.timeout is 1 to 600 seconds' }).optional(),
    })
    .refine((h) => h.type !== 'http' || h.endpoint !== undefined, { error: 'an http health check needs an endpoint' })
    .optional(),
});
export type ProcessUpdate = z.infer<typeof processUpdateSchema>;

export const rollbackSchema = z.strictObject({
  version: z.number().int().min(1, { error: 'version is a release number like 3' }),
});
