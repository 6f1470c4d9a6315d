import type { Redis } from 'ioredis';
import { serviceStateSchema, type RedisKeys, type ServiceState } from '@paas/contracts';

/**
 * What cells report of the service instances they run (RedisKeys.serviceState: JSON
 * ServiceState with a TTL the cell refreshes), read by the controller. A missing report means
 * the cell has not reported it (yet, or any more: the cell is lost, or Redis restarted empty and
 * the cell has not re-reported); never that the instance is gone.
 */

/** How long a report lives unless its cell refreshes it (the cell refreshes every few seconds). */
export const SERVICE_STATE_TTL_S = 30;

export async function reportServiceState(redis: Redis, keys: RedisKeys, state: ServiceState): Promise<void> {
  await redis.set(keys.serviceState(state.serviceInstanceId), JSON.stringify(state), 'EX', SERVICE_STATE_TTL_S);
}

/** The reports of the given instances; an instance with no (valid) report is absent from the map. */
export async function readServiceStates(redis: Redis, keys: RedisKeys, serviceInstanceIds: readonly string[]): Promise<Map<string, ServiceState>> {
  if (!serviceInstanceIds.length) return new Map();
  const values = await redis.mget(...serviceInstanceIds.map((id) => keys.serviceState(id)));
  const states = new Map<string, ServiceState>();
  values.forEach((value, i) => {
    if (value === null) return;
    const parsed = serviceStateSchema.safeParse(safeJson(value));
    if (parsed.success) states.set(serviceInstanceIds[i]!, parsed.data);
  });
  return states;
}

/** The cell deleted the instance: its report goes at once. */
export async function forgetServiceState(redis: Redis, keys: RedisKeys, serviceInstanceId: string): Promise<void> {
  await redis.del(keys.serviceState(serviceInstanceId));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
