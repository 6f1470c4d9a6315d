import { z } from 'zod';

/**
 * One backend of a route, registered by the cell that runs it. It expires at `expiresAt`
 * (epoch ms) unless the cell refreshes it.
 */
export const routeEndpointSchema = z.object({
  host: z.string(),
  address: z.string().regex(/^[^:]+:\d+$/),
  instanceId: z.string(),
  appId: z.string(),
  cellId: z.string(),
  expiresAt: z.number(),
});
export type RouteEndpoint = z.infer<typeof routeEndpointSchema>;

/** Published on the change channel: the router reloads the named host. */
export const routeChangeSchema = z.object({ host: z.string() });
export type RouteChange = z.infer<typeof routeChangeSchema>;

export const ROUTE_TTL_MS = 30_000;
export const ROUTE_REFRESH_INTERVAL_MS = 10_000;
/** The router re-reads its whole table this often, in case it missed a change message. */
export const ROUTE_RESYNC_INTERVAL_MS = 30_000;

/** Hostnames are case-insensitive; the table keys them lowercase, without a port. */
export function normalizeHost(hostHeader: string): string {
  return hostHeader.trim().toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
}
