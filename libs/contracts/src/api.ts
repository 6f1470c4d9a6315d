import { z } from 'zod';

/**
 * Response shapes of the controller's REST API that its clients (the CLI, the dashboard) read.
 * The controller builds them (its views are typed from these), clients validate what they get.
 */
export const appViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  state: z.enum(['STARTED', 'STOPPED']),
  space_id: z.string(),
  space_name: z.string(),
  org_name: z.string(),
  current_release_id: z.string().nullable(),
  url: z.string(),
  git_url: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type AppView = z.infer<typeof appViewSchema>;

export const instanceViewSchema = z.object({
  index: z.number().int(),
  instance_id: z.string(),
  process_type: z.string(),
  state: z.enum(['STARTING', 'RUNNING', 'CRASHED', 'DOWN', 'UNPLACED']),
  cell_id: z.string(),
  address: z.string().nullable(),
  release_id: z.string(),
  uptime_s: z.number(),
  since: z.string(),
  crash_count: z.number().int(),
  last_crash_reason: z.string().nullable(),
  unplaced_reason: z.string().nullable(),
});
export type InstanceView = z.infer<typeof instanceViewSchema>;

const link = z.object({ href: z.string() });
export const paginationSchema = z.object({
  total_results: z.number().int(),
  total_pages: z.number().int(),
  first: link,
  last: link,
  next: link.nullable(),
  previous: link.nullable(),
});

export function paginatedSchema<T extends z.ZodType>(item: T) {
  return z.object({ pagination: paginationSchema, resources: z.array(item) });
}

export const instanceListSchema = z.object({ resources: z.array(instanceViewSchema) });
