import type { Redis } from 'ioredis';
import {
  endpointSchema,
  endpointSetKey,
  routeEntrySchema,
  type Endpoint,
  type RedisKeys,
  type RouteChange,
  type RouteEntry,
} from '@paas/contracts';

function publish(redis: Redis, keys: RedisKeys, change: RouteChange) {
  return redis.publish(keys.routeChanges, JSON.stringify(change));
}

function parseAll<T>(raw: Record<string, string>, parse: (v: unknown) => { success: boolean; data?: T }): T[] {
  const out: T[] = [];
  for (const value of Object.values(raw)) {
    try {
      const parsed = parse(JSON.parse(value));
      if (parsed.success && parsed.data !== undefined) out.push(parsed.data);
    } catch {
      // A malformed entry is skipped, never fatal.
    }
  }
  return out;
}

/** Cells: adds or refreshes one healthy instance's endpoint and tells the routers. Safe to repeat. */
export async function registerEndpoint(redis: Redis, keys: RedisKeys, endpoint: Endpoint): Promise<void> {
  await redis
    .multi()
    .sadd(keys.endpointSets, endpointSetKey(endpoint.appId, endpoint.processType))
    .hset(keys.endpoints(endpoint.appId, endpoint.processType), endpoint.instanceId, JSON.stringify(endpoint))
    .exec();
  await publish(redis, keys, { kind: 'endpoints', appId: endpoint.appId, processType: endpoint.processType });
}

/** Cells: removes one instance's endpoint (stopping, crashed) and tells the routers. Safe to call twice. */
export async function unregisterEndpoint(redis: Redis, keys: RedisKeys, appId: string, processType: string, instanceId: string): Promise<void> {
  await redis.hdel(keys.endpoints(appId, processType), instanceId);
  await publish(redis, keys, { kind: 'endpoints', appId, processType });
}

/** Every endpoint stored for an app's process type, expired ones included (the reader decides). */
export async function listEndpoints(redis: Redis, keys: RedisKeys, appId: string, processType: string): Promise<Endpoint[]> {
  return parseAll(await redis.hgetall(keys.endpoints(appId, processType)), (v) => endpointSchema.safeParse(v));
}

/** Controller: removes every endpoint of an app's process types (app deleted). */
export async function forgetAppEndpoints(redis: Redis, keys: RedisKeys, appId: string, processTypes: string[]): Promise<void> {
  for (const type of processTypes) {
    await redis.multi().del(keys.endpoints(appId, type)).srem(keys.endpointSets, endpointSetKey(appId, type)).exec();
    await publish(redis, keys, { kind: 'endpoints', appId, processType: type });
  }
}

/**
 * Controller: replaces the routes of one host with `entries` (an empty list removes the host)
 * and tells the routers. The replacement is atomic: a router never reads half of it.
 */
export async function writeHostRoutes(redis: Redis, keys: RedisKeys, host: string, entries: RouteEntry[]): Promise<void> {
  const tx = redis.multi().del(keys.hostRoutes(host));
  if (entries.length > 0) {
    tx.hset(keys.hostRoutes(host), ...entries.flatMap((e) => [e.path, JSON.stringify(e)]));
    tx.sadd(keys.routeHosts, host);
  } else {
    tx.srem(keys.routeHosts, host);
  }
  await tx.exec();
  await publish(redis, keys, { kind: 'host', host });
}

export async function listHostRoutes(redis: Redis, keys: RedisKeys, host: string): Promise<RouteEntry[]> {
  return parseAll(await redis.hgetall(keys.hostRoutes(host)), (v) => routeEntrySchema.safeParse(v));
}

/** Hosts that have routes in the projection. */
export function listRouteHosts(redis: Redis, keys: RedisKeys): Promise<string[]> {
  return redis.smembers(keys.routeHosts);
}

/** Controller: records that every route in Postgres is projected now (see RedisKeys.routesProjected). */
export async function markRoutesProjected(redis: Redis, keys: RedisKeys, at = Date.now()): Promise<void> {
  await redis.set(keys.routesProjected, String(at));
}

/** True while Redis still holds the controller's projection mark: false once Redis lost its data. */
export async function routesProjected(redis: Redis, keys: RedisKeys): Promise<boolean> {
  return (await redis.exists(keys.routesProjected)) === 1;
}
