import type { z } from 'zod';

/**
 * Parses a process's environment against its schema, once at boot. A bad value throws one error
 * that names every offending variable and its rule, e.g. "invalid cell configuration: CELL_ID: ...".
 */
export function parseEnv<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv, component: string): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
  throw new Error(`invalid ${component} configuration:\n${lines.join('\n')}`);
}
