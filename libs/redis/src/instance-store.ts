import type { Redis } from 'ioredis';
import { actualInstanceSchema, type ActualInstance, type RedisKeys } from '@paas/contracts';

/** Records the actual state of one instance, as its cell sees it. */
export async function reportInstance(redis: Redis, keys: RedisKeys, instance: ActualInstance): Promise<void> {
  await redis.hset(keys.appInstances(instance.appId), instance.instanceId, JSON.stringify(instance));
}

export async function forgetInstance(redis: Redis, keys: RedisKeys, appId: string, instanceId: string): Promise<void> {
  await redis.hdel(keys.appInstances(appId), instanceId);
}

export async function listAppInstances(redis: Redis, keys: RedisKeys, appId: string): Promise<ActualInstance[]> {
  const raw = await redis.hgetall(keys.appInstances(appId));
  const out: ActualInstance[] = [];
  for (const value of Object.values(raw)) {
    const parsed = actualInstanceSchema.safeParse(JSON.parse(value));
    if (parsed.success) out.push(parsed.data);
  }
  return out.sort((a, b) => a.index - b.index || a.since.localeCompare(b.since));
}

/** Every instance any cell reported, found by scanning the per-app instance hashes (SCAN, so Redis is never blocked). */
export async function listAllInstances(redis: Redis, keys: RedisKeys): Promise<ActualInstance[]> {
  const prefix = keys.appInstances('');
  const appIds = new Set<string>();
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    for (const key of found) appIds.add(key.slice(prefix.length));
    cursor = next;
  } while (cursor !== '0');
  const out: ActualInstance[] = [];
  for (const appId of appIds) out.push(...(await listAppInstances(redis, keys, appId)));
  return out;
}

/** The recorded actual state of one instance, or undefined when there is none (or it is invalid). */
export async function readInstance(redis: Redis, keys: RedisKeys, appId: string, instanceId: string): Promise<ActualInstance | undefined> {
  const raw = await redis.hget(keys.appInstances(appId), instanceId);
  if (!raw) return undefined;
  const parsed = actualInstanceSchema.safeParse(JSON.parse(raw));
  return parsed.success ? parsed.data : undefined;
}
