import type { Redis } from 'ioredis';
import type { RedisKeys } from '@paas/contracts';

/**
 * Renews the lease if we hold it, else takes it if it is free (atomic): 1 while we lead. One
 * script, so two calls at once agree on the answer.
 */
const LEAD = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
if redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 1 end
return 0`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * The convergence leader's lease (RedisKeys.convergerLeader: the holder's id, PX ttlMs).
 * Takes it when free or renews it when `holderId` holds it: true while `holderId` leads. Safe
 * to call concurrently; call at least every ttlMs / 2 to keep it.
 */
export async function tryLeadConvergence(redis: Redis, keys: RedisKeys, holderId: string, ttlMs: number): Promise<boolean> {
  return (await redis.eval(LEAD, 1, keys.convergerLeader, holderId, String(ttlMs))) === 1;
}

/** Gives the leader lease up if `holderId` holds it (another holder's lease stays). */
export async function releaseConvergenceLead(redis: Redis, keys: RedisKeys, holderId: string): Promise<void> {
  await redis.eval(RELEASE, 1, keys.convergerLeader, holderId);
}
