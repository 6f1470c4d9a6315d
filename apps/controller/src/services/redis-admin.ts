import { Redis } from 'ioredis';
import { isOurUsername } from './credentials';
import { ADMIN_CONNECT_TIMEOUT_MS, type ServerLogin } from './postgres-admin';

/**
 * What the controller does on a redis instance's server, as its admin ACL user (the only user the
 * cell created; the default user is off). ACL changes are saved to the server's ACL file at once
 * (ACL SAVE), so they outlive its restart. Each call opens a connection of its own and closes it.
 */

/**
 * A binding's rights: every key and channel, every command but the administrative and dangerous
 * ones, plus those common clients need (INFO on connect, SELECT, FLUSHDB of its own data).
 */
const BINDING_RULES = ['~*', '&*', '+@all', '-@admin', '-@dangerous', '+info', '+ping', '+select', '+flushdb'];

async function withAdmin<T>(login: ServerLogin, work: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis({
    host: login.host,
    port: login.port,
    username: login.user,
    password: login.password,
    lazyConnect: true,
    connectTimeout: ADMIN_CONNECT_TIMEOUT_MS,
    commandTimeout: 10_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  redis.on('error', () => undefined);
  await redis.connect();
  try {
    return await work(redis);
  } finally {
    redis.disconnect();
  }
}

/** A new instance needs nothing but the admin login to work: checked with a PING. */
export async function prepareRedis(login: ServerLogin): Promise<void> {
  await withAdmin(login, async (redis) => {
    await redis.ping();
  });
}

export async function createRedisLogin(login: ServerLogin, username: string, password: string): Promise<void> {
  if (!isOurUsername(username) || !/^[A-Za-z0-9]{16,64}$/.test(password)) throw new Error(`not a binding login: ${username}`);
  await withAdmin(login, async (redis) => {
    await redis.call('ACL', 'SETUSER', username, 'reset', 'on', `>${password}`, ...BINDING_RULES);
    await redis.call('ACL', 'SAVE');
  });
}

/** Deletes a binding's ACL user, which disconnects its clients at once. Safe to repeat. */
export async function dropRedisLogin(login: ServerLogin, username: string): Promise<void> {
  if (!isOurUsername(username)) throw new Error(`not a binding login: ${username}`);
  await withAdmin(login, async (redis) => {
    await redis.call('ACL', 'DELUSER', username);
    await redis.call('ACL', 'SAVE');
  });
}
