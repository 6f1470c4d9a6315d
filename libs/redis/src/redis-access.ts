import { Redis } from 'ioredis';
import { redactUrl } from '@paas/contracts';

/** Redis refused the login of REDIS_URL (wrong or missing user or password), or never answered. */
export class RedisAccessError extends Error {}

/** Reply prefixes of a refused login: no AUTH sent, a wrong pair, or a user without the right. */
const REFUSED = /^(NOAUTH|WRONGPASS|NOPERM)\b|invalid (username-)?password|AUTH.*called without any password/i;

/**
 * The boot check of every component that uses Redis: resolves once Redis at `url` answers PING
 * with the URL's login. A refused login fails at once with a RedisAccessError that names the
 * component, the URL without its password and the fix; a Redis that is not reachable yet is
 * retried until `timeoutMs`, then fails the same way. One short-lived connection; no retries later.
 */
export async function checkRedisAccess(url: string, component: string, timeoutMs = 60_000): Promise<void> {
  const where = redactUrl(url);
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  for (let attempt = 0; attempt < 10_000 && Date.now() < deadline; attempt++) {
    const client = new Redis(url, {
      lazyConnect: true,
      enableReadyCheck: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: Math.max(500, Math.min(5_000, deadline - Date.now())),
    });
    // ioredis reports a refused AUTH as an 'error' event and then fails the next command with
    // "Stream isn't writeable": the event holds the server's answer.
    let emitted = '';
    client.on('error', (error: Error) => (emitted = error.message));
    try {
      await client.connect();
      await client.ping();
      return;
    } catch (error) {
      const message = REFUSED.test(emitted) ? emitted : (error as Error).message;
      if (REFUSED.test(message)) {
        throw new RedisAccessError(
          `the ${component} cannot use Redis at ${where}: it refused the login (${message.trim()}). ` +
            'Put the platform Redis user and password in REDIS_URL, e.g. redis://paas:PASSWORD@HOST:PORT ' +
            '(npm start keeps the password in <data dir>/redis-password; see docs/operations.md)',
        );
      }
      lastError = message;
    } finally {
      client.disconnect();
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new RedisAccessError(`the ${component} cannot reach Redis at ${where} within ${timeoutMs} ms${lastError ? `: ${lastError}` : ''}: check REDIS_URL and that Redis runs`);
}
