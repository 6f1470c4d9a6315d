import type { Redis } from 'ioredis';
import {
  certificateEntrySchema,
  wellKnownAnswerSchema,
  wellKnownField,
  type CertificateEntry,
  type RedisKeys,
  type RouteChange,
  type WellKnownAnswer,
} from '@paas/contracts';

/**
 * What the routers serve over HTTPS and under /.well-known/, in Redis (docs/https.md): the
 * controller writes certificates and answers and announces each change on the route-change
 * channel; routers read both hashes in full at every (re)sync and on each message.
 */

function publish(redis: Redis, keys: RedisKeys, change: RouteChange) {
  return redis.publish(keys.routeChanges, JSON.stringify(change));
}

function parseHash<T>(raw: Record<string, string>, parse: (v: unknown) => { success: boolean; data?: T }): Map<string, T> {
  const out = new Map<string, T>();
  for (const [field, value] of Object.entries(raw)) {
    try {
      const parsed = parse(JSON.parse(value));
      if (parsed.success && parsed.data !== undefined) out.set(field, parsed.data);
    } catch {
      // A malformed entry is skipped, never fatal.
    }
  }
  return out;
}

/** Controller: adds or replaces one certificate the routers serve. Safe to repeat. */
export async function publishCertificate(redis: Redis, keys: RedisKeys, entry: CertificateEntry): Promise<void> {
  await redis.hset(keys.certificates, entry.id, JSON.stringify(certificateEntrySchema.parse(entry)));
  await publish(redis, keys, { kind: 'certificates', id: entry.id });
}

/** Controller: stops the routers serving one certificate. Safe to call twice. */
export async function withdrawCertificate(redis: Redis, keys: RedisKeys, id: string): Promise<void> {
  await redis.hdel(keys.certificates, id);
  await publish(redis, keys, { kind: 'certificates', id });
}

/** Every valid certificate entry by id (routers; the controller's projection check). */
export async function readCertificates(redis: Redis, keys: RedisKeys): Promise<Map<string, CertificateEntry>> {
  return parseHash(await redis.hgetall(keys.certificates), (v) => certificateEntrySchema.safeParse(v));
}

/** Controller: the routers answer GET `path` on `host` with `body` (200 text/plain) until `ttlMs` from now. */
export async function setWellKnownAnswer(redis: Redis, keys: RedisKeys, host: string, path: string, body: string, ttlMs: number, now = Date.now()): Promise<void> {
  const answer: WellKnownAnswer = { body, expiresAt: now + ttlMs };
  await redis.hset(keys.wellKnown, wellKnownField(host, path), JSON.stringify(answer));
  await publish(redis, keys, { kind: 'well-known' });
}

/** Controller: removes one answer. Safe to call twice. */
export async function clearWellKnownAnswer(redis: Redis, keys: RedisKeys, host: string, path: string): Promise<void> {
  await redis.hdel(keys.wellKnown, wellKnownField(host, path));
  await publish(redis, keys, { kind: 'well-known' });
}

/** Every answer not yet expired, by wellKnownField (routers). */
export async function readWellKnownAnswers(redis: Redis, keys: RedisKeys, now = Date.now()): Promise<Map<string, WellKnownAnswer>> {
  const all = parseHash(await redis.hgetall(keys.wellKnown), (v) => wellKnownAnswerSchema.safeParse(v));
  for (const [field, answer] of all) if (answer.expiresAt <= now) all.delete(field);
  return all;
}
