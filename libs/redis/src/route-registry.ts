import type { Redis } from 'ioredis';
import { routeEndpointSchema, type RedisKeys, type RouteEndpoint } from '@paas/contracts';

/** Adds or refreshes one endpoint of a host and tells the routers. Safe to call repeatedly. */
export async function registerEndpoint(redis: Redis, keys: RedisKeys, endpoint: RouteEndpoint): Promise<void> {
  await redis
    .multi()
    .sadd(keys.routeHosts, endpoint.host)
    .hset(keys.routeEndpoints(endpoint.host), endpoint.instanceId, JSON.stringify(endpoint))
    .publish(keys.routeChanges, JSON.stringify({ host: endpoint.host }))
    .exec();
}

/** Removes one instance's endpoint from a host and tells the routers. Safe to call twice. */
export async function unregisterEndpoint(redis: Redis, keys: RedisKeys, host: string, instanceId: string): Promise<void> {
  await redis
    .multi()
    .hdel(keys.routeEndpoints(host), instanceId)
    .publish(keys.routeChanges, JSON.stringify({ host }))
    .exec();
}

/** Removes every endpoint of an app from a host (app deleted or route unmapped). */
export async function unregisterAppEndpoints(redis: Redis, keys: RedisKeys, host: string, appId: string): Promise<number> {
  const endpoints = await listEndpoints(redis, keys, host);
  const mine = endpoints.filter((e) => e.appId === appId).map((e) => e.instanceId);
  if (mine.length > 0) await redis.hdel(keys.routeEndpoints(host), ...mine);
  // A host left with no endpoint is no longer a route at all: the router answers 404 for it.
  if ((await redis.hlen(keys.routeEndpoints(host))) === 0) await redis.srem(keys.routeHosts, host);
  await redis.publish(keys.routeChanges, JSON.stringify({ host }));
  return mine.length;
}

/** Every valid endpoint stored for a host, expired ones included (the reader decides). */
export async function listEndpoints(redis: Redis, keys: RedisKeys, host: string): Promise<RouteEndpoint[]> {
  const raw = await redis.hgetall(keys.routeEndpoints(host));
  const endpoints: RouteEndpoint[] = [];
  for (const value of Object.values(raw)) {
    try {
      const parsed = routeEndpointSchema.safeParse(JSON.parse(value));
      if (parsed.success) endpoints.push(parsed.data);
    } catch {
      // A malformed entry is skipped, never fatal.
    }
  }
  return endpoints;
}
