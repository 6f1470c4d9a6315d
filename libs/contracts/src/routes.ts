import { z } from 'zod';

/**
 * The routing contract between the controller, the cells and the routers.
 *
 * - The controller projects its routes (Postgres) into Redis: per host a hash path -> RouteEntry,
 *   and the set of hosts. A route with no destination answers 404; one whose destinations have
 *   no live endpoint answers 503.
 * - Cells register the endpoints of healthy instances per (app, process type): a hash
 *   instanceId -> Endpoint, which expires at `expiresAt` unless refreshed.
 * - Both publish a RouteChange after any write; routers reload what it names.
 */
export const routeDestinationEntrySchema = z.object({
  id: z.string(),
  appId: z.string(),
  processType: z.string(),
  port: z.number().int(),
  /** Relative share of traffic; destinations without a weight share equally. */
  weight: z.number().int().positive().optional(),
});
export type RouteDestinationEntry = z.infer<typeof routeDestinationEntrySchema>;

export const routeEntrySchema = z.object({
  routeId: z.string(),
  host: z.string(),
  /** '' for the whole host, else a prefix like '/api' (no trailing slash). */
  path: z.string(),
  destinations: z.array(routeDestinationEntrySchema),
  /** Plain-HTTP requests get a 308 to https (PATCH /v1/routes/:id https_redirect). */
  httpsRedirect: z.boolean().optional(),
  /** Strict-Transport-Security max-age (seconds) on the route's HTTPS responses; absent: none. */
  hstsMaxAge: z.number().int().nonnegative().optional(),
});
export type RouteEntry = z.infer<typeof routeEntrySchema>;

export const endpointSchema = z.object({
  instanceId: z.string(),
  appId: z.string(),
  processType: z.string(),
  index: z.number().int().nonnegative(),
  /** host:port on the cell's address. */
  address: z.string().regex(/^[^:]+:\d+$/),
  cellId: z.string(),
  expiresAt: z.number(),
});
export type Endpoint = z.infer<typeof endpointSchema>;

export const routeChangeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('host'), host: z.string() }),
  z.object({ kind: z.literal('endpoints'), appId: z.string(), processType: z.string() }),
  /** The certificates hash changed: re-read it (one certificate, or all when id is absent). */
  z.object({ kind: z.literal('certificates'), id: z.string().optional() }),
  /** The well-known answers hash changed: re-read it. */
  z.object({ kind: z.literal('well-known') }),
]);
export type RouteChange = z.infer<typeof routeChangeSchema>;

export const ROUTE_TTL_MS = 30_000;
export const ROUTE_REFRESH_INTERVAL_MS = 10_000;
/** The router re-reads its whole table this often, in case it missed a change message. */
export const ROUTE_RESYNC_INTERVAL_MS = 30_000;

/** Hostnames are case-insensitive; the table keys them lowercase, without a port. */
export function normalizeHost(hostHeader: string): string {
  return hostHeader.trim().toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
}

/** Key of one (app, process type) endpoint set. */
export function endpointSetKey(appId: string, processType: string): string {
  return `${appId}/${processType}`;
}

/**
 * Route paths are matched by longest prefix on whole segments: '/api' matches '/api' and '/api/x',
 * not '/apix'. `requestPath` is the request's path in normal form (normalizeRequestPath), without
 * its query; a trailing '?...' is tolerated.
 */
export function pathMatches(routePath: string, requestPath: string): boolean {
  if (routePath === '') return true;
  return requestPath === routePath || requestPath.startsWith(routePath + '/') || requestPath.startsWith(routePath + '?');
}
