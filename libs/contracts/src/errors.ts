import { z } from 'zod';

/** The one error body every HTTP API of the platform answers with. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** Header the router sets on responses it produced itself, so they are never confused with an app's. */
export const ROUTER_ERROR_HEADER = 'x-paas-router-error';
