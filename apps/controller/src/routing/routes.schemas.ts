import { ROUTE_PATH_RULE, routePathProblem } from '@paas/contracts';
import { z } from 'zod';

export const HOST_RULE = 'host must be a lowercase DNS label (1-63 characters of a-z, 0-9 and "-", not starting or ending with "-"), or "" on a private domain';
export const PATH_RULE = `path must be a string: ${ROUTE_PATH_RULE}`;

/** The only port an app instance exposes today: `$PORT`. */
export const APP_PORT = 8080;

export const routeHostSchema = z
  .string({ error: 'host is required: ' + HOST_RULE })
  .regex(/^$|^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, { error: HOST_RULE });

/** A route path in the normal form the router matches on (routePathProblem, shared with it); the message names the fix. */
export const routePathSchema = z.string({ error: PATH_RULE }).superRefine((path, ctx) => {
  const problem = routePathProblem(path);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const createRouteSchema = z.strictObject({
  host: routeHostSchema,
  domain_id: z.uuid({ error: 'domain_id must be a domain id (a UUID): list them with GET /v1/domains' }),
  path: routePathSchema.default(''),
  space_id: z.uuid({ error: 'space_id must be a space id (a UUID): list them with GET /v1/spaces' }),
});
export type CreateRouteRequest = z.infer<typeof createRouteSchema>;

export const destinationSchema = z.strictObject({
  app: z.strictObject(
    { id: z.uuid({ error: 'app.id must be an app id (a UUID): list them with GET /v1/apps' }) },
    { error: 'app must be {"id": APP_ID}' },
  ),
  process_type: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, { error: 'process_type must be a process type such as "web"' })
    .default('web'),
  port: z.number({ error: 'port must be a number' }).int({ error: 'port must be a whole number' }).min(1).max(65_535).default(APP_PORT),
  weight: z
    .number({ error: 'weight must be a number from 1 to 100' })
    .int({ error: 'weight must be a whole number from 1 to 100' })
    .min(1, { error: 'weight must be from 1 to 100' })
    .max(100, { error: 'weight must be from 1 to 100' })
    .optional(),
});
export type DestinationRequest = z.infer<typeof destinationSchema>;

/** POST adds these destinations (a destination already bound gets the new weight); PATCH makes them the route's only ones. */
export const destinationsSchema = z.strictObject({
  destinations: z
    .array(destinationSchema, { error: 'destinations must be a list of {"app": {"id"}, "process_type", "port", "weight"}' })
    .max(100, { error: 'a route may have at most 100 destinations' }),
});
export type DestinationsRequest = z.infer<typeof destinationsSchema>;
