import { z } from 'zod';
import { ENV_NAME_PATTERN, ENV_NAME_RULE, ENV_VALUE_MAX_CHARS, PROCESS_LIMITS as L, RESERVED_ENV, RESERVED_ENV_RULE } from '@paas/contracts';

// The limits and env rules live in @paas/contracts (process-rules.ts): a pushed manifest.yml obeys the same ones.
export { RESERVED_ENV };

export const envPatchSchema = z.strictObject({
  var: z
    .record(z.string(), z.union([z.string().max(ENV_VALUE_MAX_CHARS, { error: `a value may have at most ${ENV_VALUE_MAX_CHARS} characters` }), z.null()], {
      error: 'a value is a string, or null to remove the variable',
    }))
    .superRefine((vars, ctx) => {
      for (const name of Object.keys(vars)) {
        if (!ENV_NAME_PATTERN.test(name)) {
          ctx.addIssue({ code: 'custom', path: [name], message: ENV_NAME_RULE });
        } else if (RESERVED_ENV.test(name)) {
          ctx.addIssue({ code: 'custom', path: [name], message: RESERVED_ENV_RULE });
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

const CPU_MILLICORES_RULE =
  `cpu_millicores is a whole number of millicores from ${L.cpuMillicores.min} to ${L.cpuMillicores.max} (500 = half a core), or null for no quota`;

export const scaleSchema = z
  .strictObject({
    instances: z
      .number()
      .int()
      .min(L.instances.min, { error: `instances must be ${L.instances.min} or more` })
      .max(L.instances.max, { error: `instances must be at most ${L.instances.max}` })
      .optional(),
    memory_mb: z
      .number()
      .int()
      .min(L.memoryMb.min, { error: `memory_mb must be at least ${L.memoryMb.min}` })
      .max(L.memoryMb.max, { error: `memory_mb must be at most ${L.memoryMb.max}` })
      .optional(),
    disk_mb: z.number().int().min(L.diskMb.min, { error: `disk_mb must be at least ${L.diskMb.min}` }).max(L.diskMb.max).optional(),
    cpu_millicores: z
      .number({ error: CPU_MILLICORES_RULE })
      .int({ error: CPU_MILLICORES_RULE })
      .min(L.cpuMillicores.min, { error: CPU_MILLICORES_RULE })
      .max(L.cpuMillicores.max, { error: CPU_MILLICORES_RULE })
      .nullable()
      .optional(),
  })
  .refine((s) => s.instances !== undefined || s.memory_mb !== undefined || s.disk_mb !== undefined || s.cpu_millicores !== undefined, {
    error: 'give at least one of instances, memory_mb, disk_mb, cpu_millicores',
  });
export type ScaleRequest = z.infer<typeof scaleSchema>;

export const processUpdateSchema = z.strictObject({
  command: z.string().min(1).max(L.commandMaxChars).nullable().optional(),
  health_check: z
    .strictObject({
      type: z.enum(['port', 'http', 'process'], { error: 'health_check.type is one of port, http, process' }),
      endpoint: z.string().startsWith('/', { error: 'health_check.endpoint is a path starting with /' }).optional(),
      timeout: z
        .number()
        .int()
        .min(L.healthCheckTimeoutS.min)
        .max(L.healthCheckTimeoutS.max, { error: `health_check.timeout is ${L.healthCheckTimeoutS.min} to ${L.healthCheckTimeoutS.max} seconds` })
        .optional(),
    })
    .refine((h) => h.type !== 'http' || h.endpoint !== undefined, { error: 'an http health check needs an endpoint' })
    .optional(),
});
export type ProcessUpdate = z.infer<typeof processUpdateSchema>;

export const rollbackSchema = z.strictObject({
  version: z.number().int().min(1, { error: 'version is a release number like 3' }),
});
